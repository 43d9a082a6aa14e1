"""Speaking answers through the speech child process, on a machine without a sound card. Where
playback matters, a fake `aplay` on the child's PATH stands in for the player."""
from __future__ import annotations

import os
import signal
import threading
import time
import wave
from pathlib import Path

import pytest

from assistant.speech import speaker as speaker_module
from assistant.speech.speaker import Speaker, SpeechError
from assistant.speech.speaker_process import split_sentences

WAIT = 30.0  # generous: only a broken child takes this long
LONG_TEXT = " ".join(f"This is sentence number {n} of a long answer." for n in range(1, 13))


class Events:
    """The events a Speaker reports, with a wait for the one a test needs."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self._changed = threading.Condition()

    def __call__(self, event: dict) -> None:
        with self._changed:
            self.seen.append(event)
            self._changed.notify_all()

    def wait_for(self, kind: str, utterance: int | None = None) -> dict:
        def match():
            return next(iter(self._of(kind, utterance)), None)

        with self._changed:
            assert self._changed.wait_for(match, WAIT), f"no {kind} event for {utterance}; saw {self.seen}"
            return match()

    def of(self, kind: str, utterance: int | None = None) -> list[dict]:
        with self._changed:
            return self._of(kind, utterance)

    def _of(self, kind: str, utterance: int | None) -> list[dict]:
        return [e for e in self.seen if e["event"] == kind and (utterance is None or e.get("id") == utterance)]


def headless_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a machine with no sound server (and no /dev/snd, checked by the tests)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PULSE_SERVER", "XDG_RUNTIME_DIR")}
    runtime = tmp_path / "runtime"
    runtime.mkdir(exist_ok=True)
    return {**env, "XDG_RUNTIME_DIR": str(runtime), **extra}


def fake_player_env(tmp_path: Path, script: str) -> dict[str, str]:
    """A child that believes it has a sound server and plays with `script` as its aplay."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aplay = bin_dir / "aplay"
    aplay.write_text("#!/bin/sh\n" + script + "\n")
    aplay.chmod(0o755)
    return headless_env(tmp_path, PATH=str(bin_dir), PULSE_SERVER="unix:/nonexistent/pulse")


def wait_until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def make_speaker(events):
    made: list[Speaker] = []

    def make(env: dict[str, str] | None = None) -> Speaker:
        speaker = Speaker(on_event=events, env=env)
        made.append(speaker)
        return speaker

    yield make
    for speaker in made:
        speaker.close()


needs_no_sound_card = pytest.mark.skipif(Path("/dev/snd").exists(), reason="this machine has a sound card")


def test_sentences_are_split_at_their_ends_and_at_line_breaks():
    assert split_sentences("  One. Two?  Three!\nFour\n\n") == ["One.", "Two?", "Three!", "Four"]
    assert split_sentences(" \n ") == []


def test_save_wav_writes_speech_of_a_plausible_length(make_speaker, tmp_path):
    path = tmp_path / "answer.wav"
    seconds = make_speaker().save_wav("Because you liked Toy Story, you may enjoy this one.", path)
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 22050
        assert wav.getnchannels() == 1
        assert wav.getnframes() > 0
        assert seconds == pytest.approx(wav.getnframes() / 22050)
    assert seconds > 0.5


def test_consecutive_saves_both_work(make_speaker, tmp_path):
    speaker = make_speaker()
    short = speaker.save_wav("Hello.", tmp_path / "one.wav")
    long = speaker.save_wav("This second answer is a good deal longer than the first one.", tmp_path / "two.wav")
    assert 0 < short < long
    assert (tmp_path / "one.wav").stat().st_size > 0 and (tmp_path / "two.wav").stat().st_size > 0


def test_a_bad_save_path_raises_a_readable_speech_error(make_speaker, tmp_path):
    bogus = tmp_path / "no such folder" / "answer.wav"
    with pytest.raises(SpeechError, match="Cannot write .*no such folder.*No such file"):
        make_speaker().save_wav("Hello.", bogus)


def test_empty_text_cannot_be_saved(make_speaker, tmp_path):
    with pytest.raises(SpeechError, match="empty"):
        make_speaker().save_wav("  ", tmp_path / "empty.wav")


@needs_no_sound_card
def test_without_a_sound_device_say_starts_and_finishes_and_the_reason_is_told_once(make_speaker, events, tmp_path):
    speaker = make_speaker(headless_env(tmp_path))
    first = speaker.say("Here is your answer. It has two sentences.")
    events.wait_for("finished", first)
    second = speaker.say("And another one.")
    assert events.wait_for("finished", second)["completed"] is True

    assert [e["event"] for e in events.seen if e.get("id") == first] == ["started", "finished"]
    assert speaker.last_started_at(first) is not None
    [ready] = events.of("ready")
    assert "sound device" in ready["silent_reason"]
    assert speaker.silent_reason == ready["silent_reason"]


def test_without_a_player_the_reason_says_so(make_speaker, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    speaker = make_speaker(headless_env(tmp_path, PATH=str(empty_bin), PULSE_SERVER="unix:/nonexistent/pulse"))
    assert speaker.wait_ready(WAIT)
    assert "No audio player" in speaker.silent_reason


def test_every_sentence_is_played_in_turn(make_speaker, events, tmp_path):
    played = tmp_path / "played"
    played.mkdir()
    # Keeps a copy of each file it is asked to play (the child deletes them once played).
    speaker = make_speaker(fake_player_env(tmp_path, f'/bin/cp "$2" "{played}/"'))
    utterance = speaker.say("First sentence. Second sentence! Third sentence is the longest of them all?")
    assert events.wait_for("finished", utterance)["completed"] is True
    assert speaker.silent_reason is None
    copies = sorted(played.iterdir(), key=lambda path: int(path.stem))
    frames = []
    for copy in copies:
        with wave.open(str(copy), "rb") as wav:
            frames.append(wav.getnframes())
    assert len(frames) == 3 and 0 < frames[0] < frames[2]


def test_stop_interrupts_a_long_answer(make_speaker, events, tmp_path):
    log = tmp_path / "played.txt"
    speaker = make_speaker(fake_player_env(tmp_path, f'echo "$2" >> "{log}"\nexec /bin/sleep 60'))
    utterance = speaker.say(LONG_TEXT)
    wait_until(lambda: log.exists() and log.read_text())
    speaker.stop()
    assert events.wait_for("finished", utterance)["completed"] is False
    assert len(log.read_text().splitlines()) == 1  # the rest of the answer was dropped


def test_a_new_answer_interrupts_the_one_being_spoken(make_speaker, events, tmp_path):
    speaker = make_speaker(fake_player_env(tmp_path, "exec /bin/sleep 60"))
    first = speaker.say(LONG_TEXT)
    events.wait_for("started", first)
    second = speaker.say("A new question's answer.")
    assert events.wait_for("finished", first)["completed"] is False
    events.wait_for("started", second)


def test_muted_answers_are_not_spoken(make_speaker, events, tmp_path):
    speaker = make_speaker(fake_player_env(tmp_path, "exit 0"))
    speaker.set_muted(True)
    assert speaker.muted
    muted = speaker.say("You should not hear this.")
    speaker.set_muted(False)
    heard = speaker.say("You should hear this.")
    events.wait_for("finished", heard)
    assert events.of("started", muted) == [] and events.of("finished", muted) == []
    assert speaker.last_started_at(muted) is None
    assert events.of("started", heard)


def test_muting_stops_the_answer_being_spoken(make_speaker, events, tmp_path):
    speaker = make_speaker(fake_player_env(tmp_path, "exec /bin/sleep 60"))
    utterance = speaker.say(LONG_TEXT)
    events.wait_for("started", utterance)
    speaker.set_muted(True)
    assert events.wait_for("finished", utterance)["completed"] is False


def test_a_killed_child_is_reported_and_restarted_by_the_next_answer(make_speaker, events, tmp_path):
    speaker = make_speaker(fake_player_env(tmp_path, "exit 0"))
    assert speaker.wait_ready(WAIT)
    old_pid = speaker.pid
    os.kill(old_pid, signal.SIGKILL)
    assert "stopped unexpectedly" in events.wait_for("error")["message"]
    assert "stopped unexpectedly" in speaker.silent_reason

    utterance = speaker.say("Back again.")
    events.wait_for("finished", utterance)
    assert events.of("started", utterance)
    assert speaker.pid not in (None, old_pid)
    assert speaker.silent_reason != events.wait_for("error")["message"]


def test_a_hung_child_is_replaced_by_the_next_answer(make_speaker, events, tmp_path, monkeypatch):
    monkeypatch.setattr(speaker_module, "_HANG_SECONDS", -1.0)  # any unanswered answer means hung
    speaker = make_speaker(fake_player_env(tmp_path, "exit 0"))
    assert speaker.wait_ready(WAIT)
    hung_pid = speaker.pid
    os.kill(hung_pid, signal.SIGSTOP)
    lost = speaker.say("Nobody hears this.")
    heard = speaker.say("A fresh child says this.")
    assert events.wait_for("finished", lost)["completed"] is False
    events.wait_for("started", heard)
    assert speaker.pid != hung_pid
    assert not alive(hung_pid)
    assert len(events.of("finished", lost)) == 1


def test_a_voice_change_reaches_the_child(make_speaker, tmp_path):
    speaker = make_speaker()
    text = "The same words at two speeds."
    speaker.set_voice(rate=300)
    fast = speaker.save_wav(text, tmp_path / "fast.wav")
    speaker.set_voice(rate=120, voice="en-us")
    slow = speaker.save_wav(text, tmp_path / "slow.wav")
    assert slow > fast


def test_an_unknown_voice_is_reported(make_speaker, events):
    speaker = make_speaker()
    speaker.set_voice(voice="no such voice")
    speaker.start()
    assert "Unknown voice" in events.wait_for("error")["message"]


def test_a_child_that_cannot_start_its_engine_is_a_silent_reason(make_speaker, events, tmp_path):
    # espeak-ng exits the whole process when its data folder is empty.
    empty = tmp_path / "espeak-data"
    empty.mkdir()
    speaker = make_speaker(headless_env(tmp_path, ESPEAK_DATA_PATH=str(empty)))
    assert speaker.wait_ready(WAIT)
    assert speaker.silent_reason.startswith("Speech is off")
    assert events.wait_for("ready")["silent_reason"] == speaker.silent_reason
    with pytest.raises(SpeechError, match="Speech is off"):
        speaker.save_wav("Hello.", tmp_path / "never.wav")


def test_close_leaves_no_process_behind(make_speaker, events, tmp_path):
    pid_file = tmp_path / "player.pid"
    speaker = make_speaker(fake_player_env(tmp_path, f'echo $$ > "{pid_file}"\nexec /bin/sleep 60'))
    speaker.say(LONG_TEXT)
    wait_until(pid_file.exists)
    wait_until(lambda: pid_file.read_text().strip())
    child = speaker.pid
    speaker.close()
    assert speaker.pid is None
    assert not alive(child)
    assert not alive(int(pid_file.read_text()))
