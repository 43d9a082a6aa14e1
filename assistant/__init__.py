"""The desktop assistant: windows, views, conversation and speech.

It talks to the engine only through engine.api and the plain explanation objects it returns.
"""
