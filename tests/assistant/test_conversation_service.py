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


class HearingVoice(QuietVoice):
    """A voice whose recogniser hears the transcripts given, one per recording."""

    def __init__(self, transcripts):
        self._transcripts = list(transcripts)

    def transcribe(self, audio):
        return self._transcripts.pop(0)


def test_a_spoken_edit_waits_for_yes_and_noise_changes_nothing(qtbot, app_engine):
    """Before: whatever the recogniser heard was acted on; empty recognitions were only an error line."""
    from assistant.speech.sphinx_recogniser import Transcript

    the_fear = next(m.id for m in app_engine.catalogue.movies if m.title == "The Fear")
    voice = HearingVoice([Transcript("", 0.1, "pocketsphinx", doubt="it sounded like noise, not speech"),
                          Transcript("add the fear", 0.1, "pocketsphinx"), Transcript("yes", 0.1, "pocketsphinx")])
    service = ConversationService(app_engine, voice_factory=lambda engine, name, model: voice)
    with qtbot.waitSignal(service.voiceReady, timeout=60_000):
        service.start()
    profile = app_engine.user_profile(1)
    heard: list[str] = []
    service.heard.connect(heard.append)
    answers = []
    for _ in range(3):
        with qtbot.waitSignal(service.answered, timeout=300_000) as answered:
            service.ask_audio(object(), profile, None)
        answers.append(answered.args[0].answer)
    service.stop()
    assert answers[0].text.startswith("I didn't catch that (it sounded like noise") and answers[0].change is None
    assert answers[1].text == "Add The Fear (1995) to your profile? Say yes or no." and answers[1].change is None
    assert answers[2].change.add == (the_fear,)
    assert heard == ["add the fear", "yes"]
