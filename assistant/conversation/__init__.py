"""Conversation: understanding questions and answering them from explanation objects. No Qt."""
