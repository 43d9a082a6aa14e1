"""The conversation worker: the lens on screen survives the conversation being rebuilt for a voice."""
from __future__ import annotations

from types import SimpleNamespace

from engine.api import Lens
from assistant.conversation_service import ConversationService


class QuietVoice:
    """A voice with spoken-title aliases and no microphone: enough for the worker to rebuild."""

    aliases: dict = {}
    recogniser = SimpleNamespace(name="pocketsphinx")
    recogniser_note = ""

    def microphone_status(self):
        return False, "no microphone in tests"

    def close(self):
        pass


def test_the_lens_in_front_survives_the_voice_rebuilding_the_conversation(qtbot, app_engine):
    attempts = []

    def voice_factory(engine, name, model):
        attempts.append(name)
        if len(attempts) == 1:
            raise OSError("no recogniser model yet")  # typing works; the conversation keeps no aliases
        return QuietVoice()

    service = ConversationService(app_engine, voice_factory=voice_factory)
    with qtbot.waitSignal(service.voiceReady, timeout=60_000):
        service.start()
    service.set_lens(Lens.INFLUENCE)
    with qtbot.waitSignal(service.voiceReady, timeout=60_000):
        service.use_recogniser("pocketsphinx", None)  # now a voice: the conversation is rebuilt with its aliases
    profile = app_engine.user_profile(1)
    with qtbot.waitSignal(service.answered, timeout=300_000) as answered:
        service.ask("why this movie?", profile, app_engine.recommend(profile, 1)[0].movie.id)
    service.stop()
    assert len(attempts) == 2
    assert answered.args[0].answer.lens == Lens.INFLUENCE.value
