"""Speech: listening (grammar-constrained recognition) and speaking (TTS in a separate process). No Qt."""
