"""The speech child process: the only place pyttsx3 runs (it hangs or raises "run loop already
started" when driven from Qt threads). Run as `python -m assistant.speech.speaker_process`.

JSON lines. In on stdin:
    {"cmd": "say", "id": N, "text": ...}      speak, interrupting whatever is being spoken
    {"cmd": "stop"}                           stop speaking
    {"cmd": "save", "id": N, "text": ..., "path": ...}
    {"cmd": "voice", "rate": wpm, "voice": name or null}
    {"cmd": "quit"}                           (end of stdin quits too)
Out on stdout:
    {"event": "ready", "silent_reason": str or null}
    {"event": "started", "id": N}             first audio of answer N is playing (or, when there is
                                              nothing to play it on, is synthesised)
    {"event": "finished", "id": N, "completed": bool}   exactly once per say
    {"event": "saved", "id": N, "path": ..., "seconds": float}
    {"event": "error", "id": N or null, "message": ...}

pyttsx3's espeak driver plays through a blocking os.system("aplay ..."), which nothing can
interrupt, so pyttsx3 only synthesises WAV files here and a player subprocess that can be killed
plays them. The answer is spoken sentence by sentence: sentence k+1 is synthesised while k plays,
so the first words start after one short synthesis instead of the whole answer's.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import wave
from collections import deque
from pathlib import Path

from assistant.speech.espeak_library import EspeakUnavailable, prepare_for_pyttsx3

NO_ENGINE = "No text-to-speech engine: pyttsx3 could not start espeak-ng."
NO_DEVICE = "No sound device (no /dev/snd and no PulseAudio/PipeWire server)."
NO_PLAYER = "No audio player: install alsa-utils for aplay, or pulseaudio-utils for paplay."

# First one found on PATH plays the sentences.
PLAYERS = (["aplay", "-q"], ["paplay"], ["pw-play"], ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"])

_SYNTHESIS_SECONDS = 60.0  # espeak-ng is far faster than real time; this is only a stuck engine
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if part.strip()]


def wav_duration(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def find_player() -> list[str] | None:
    for command in PLAYERS:
        found = shutil.which(command[0])
        if found:
            return [found, *command[1:]]
    return None


def has_sound_device() -> bool:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    sockets = [Path(runtime) / "pulse" / "native", Path(runtime) / "pipewire-0"] if runtime else []
    return Path("/dev/snd").is_dir() or bool(os.environ.get("PULSE_SERVER")) or any(s.exists() for s in sockets)


class SynthesisError(Exception):
    pass


class Synthesiser:
    """pyttsx3 used only to write WAV files (22050 Hz mono 16-bit with espeak-ng)."""

    def __init__(self) -> None:
        # The wheel's (or the system's) libespeak-ng, loaded before pyttsx3 looks for one of its own.
        prepare_for_pyttsx3()
        import pyttsx3  # here, so that a missing engine is a silent reason and not an import crash

        self._engine = pyttsx3.init()
        self._failure: Exception | None = None
        self._written = threading.Event()
        # The driver reports failed commands here instead of raising them.
        self._engine.connect("error", self._on_error)
        self._engine.connect("finished-utterance", self._on_written)
        self._voices = self._engine.getProperty("voices")
        default = self._engine.getProperty("voice")
        self._default_voice = next((v.name for v in self._voices if v.id == default), default)

    def _on_error(self, name=None, exception=None) -> None:
        self._failure = exception

    def _on_written(self, name=None, completed=None) -> None:
        self._written.set()

    def to_wav(self, text: str, path: Path) -> None:
        # One save_to_file + runAndWait per file, on one engine: repeated calls work in pyttsx3
        # 2.99, and espeak-ng cannot be initialised twice in a process anyway.
        self._failure = None
        self._written.clear()
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        # espeak-ng synthesises on a thread of its own, and the driver's runAndWait can return
        # before the file is written (it always does on the first call): wait for the driver's
        # own "finished" notice, sent once the file is complete.
        if not self._written.wait(_SYNTHESIS_SECONDS):
            raise SynthesisError("Speech synthesis did not finish.")
        if self._failure is not None or not path.is_file() or path.stat().st_size == 0:
            raise SynthesisError(f"Speech synthesis failed: {self._failure or 'no audio was written'}")

    def set_voice(self, rate: int, voice: str | None) -> None:
        if not isinstance(rate, int) or not 50 <= rate <= 500:
            raise SynthesisError(f"Speech rate must be 50 to 500 words per minute, not {rate!r}.")
        name = self._default_voice if voice is None else self._voice_name(voice)
        # espeak-ng selects voices by name; pyttsx3's ids ("gmw/en-us") are not accepted.
        self._engine.setProperty("voice", name)
        self._engine.setProperty("rate", rate)

    def _voice_name(self, wanted: str) -> str:
        key = wanted.lower()
        for voice in self._voices:
            if key in (voice.id.lower(), voice.id.lower().rsplit("/", 1)[-1], voice.name.lower()):
                return voice.name
        raise SynthesisError(f"Unknown voice {wanted!r}.")


class SpeakerProcess:
    """A stdin-reader thread takes commands; "say" and "stop" act at once (kill the player, drop
    the rest of the answer) while the main thread synthesises and plays."""

    def __init__(self, out, synth: Synthesiser | None, player: list[str] | None, silent_reason: str | None):
        self._out = out
        self._out_lock = threading.Lock()
        self._synth = synth
        self._player_command = player
        self._silent_reason = silent_reason
        self._lock = threading.Condition()
        self._generation = 0  # bumped by every say/stop/quit: work of an older generation is dropped
        self._pending_say: tuple[int, str, int] | None = None
        self._side_jobs: deque[dict] = deque()  # save and voice, run between sentences
        self._player: subprocess.Popen | None = None
        self._quit = False
        self._temp = Path(tempfile.mkdtemp(prefix="cinewhy-speech-"))
        self._file_count = 0

    def emit(self, event: str, **fields) -> None:
        with self._out_lock:
            try:
                self._out.write(json.dumps({"event": event, **fields}) + "\n")
                self._out.flush()
            except (OSError, ValueError):
                pass  # the parent is gone; end of stdin will end this process

    # Reader thread

    def read_commands(self, lines) -> None:
        for line in lines:
            try:
                self._command(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                self.emit("error", id=None, message=f"Bad speech command {line.strip()!r}: {error}")
        self._command({"cmd": "quit"})

    def _command(self, command: dict) -> None:
        kind = command["cmd"]
        with self._lock:
            if kind in ("say", "stop", "quit"):
                self._interrupt()
            if kind == "say":
                self._pending_say = (int(command["id"]), str(command["text"]), self._generation)
            elif kind == "quit":
                self._quit = True
            elif kind in ("save", "voice"):
                self._side_jobs.append(command)
            elif kind != "stop":
                raise KeyError(f"unknown command {kind!r}")
            self._lock.notify_all()

    def _interrupt(self) -> None:
        self._generation += 1
        if self._player is not None:
            self._player.kill()
        if self._pending_say is not None:
            self.emit("finished", id=self._pending_say[0], completed=False)
            self._pending_say = None

    # Main thread

    def run(self) -> None:
        try:
            while True:
                with self._lock:
                    self._lock.wait_for(lambda: self._quit or self._side_jobs or self._pending_say)
                    if self._quit:
                        return
                    side_job = self._side_jobs.popleft() if self._side_jobs else None
                    say, self._pending_say = (None, self._pending_say) if side_job else (self._pending_say, None)
                if side_job:
                    self._run_side_job(side_job)
                else:
                    self._speak(*say)
        finally:
            shutil.rmtree(self._temp, ignore_errors=True)

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation and not self._quit

    def _speak(self, utterance: int, text: str, generation: int) -> None:
        sentences = split_sentences(text)
        if self._synth is None or not sentences:  # no engine (said in "ready"), or nothing to say
            self.emit("finished", id=utterance, completed=not sentences)
            return
        try:
            completed = self._play_sentences(utterance, sentences, generation)
        except SynthesisError as error:
            self.emit("error", id=utterance, message=str(error))
            completed = False
        self.emit("finished", id=utterance, completed=completed)

    def _play_sentences(self, utterance: int, sentences: list[str], generation: int) -> bool:
        wav = self._synthesise(sentences[0])
        if self._player_command is None:
            # Nothing to play on: the first sentence is still made, so that start-of-answer
            # latency can be measured on any machine, and the rest is skipped.
            wav.unlink()
            if not self._current(generation):
                return False
            self.emit("started", id=utterance)
            return True
        for index in range(len(sentences)):
            player = self._start_player(wav, generation)
            if player is None:
                wav.unlink()
                return False
            if index == 0:
                self.emit("started", id=utterance)
            next_wav = self._synthesise(sentences[index + 1]) if index + 1 < len(sentences) else None
            played = self._wait_for(player)
            wav.unlink()
            if not played:
                if next_wav:
                    next_wav.unlink()
                return False
            wav = next_wav
        return True

    def _synthesise(self, text: str) -> Path:
        self._file_count += 1
        path = self._temp / f"{self._file_count}.wav"
        self._synth.to_wav(text, path)
        return path

    def _start_player(self, wav: Path, generation: int) -> subprocess.Popen | None:
        with self._lock:  # under the lock so that a stop cannot slip between the check and the start
            if generation != self._generation or self._quit:
                return None
            self._player = subprocess.Popen(
                [*self._player_command, str(wav)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            return self._player

    def _wait_for(self, player: subprocess.Popen) -> bool:
        """Waits for the player, running saves and voice changes meanwhile; False when it was killed
        or failed."""
        while player.poll() is None:
            with self._lock:
                self._lock.wait_for(lambda: self._side_jobs or player.poll() is not None, timeout=0.01)
                side_job = self._side_jobs.popleft() if self._side_jobs else None
            if side_job:
                self._run_side_job(side_job)
        with self._lock:
            self._player = None
        problem = player.stderr.read().decode(errors="replace").strip()
        player.stderr.close()
        if player.returncode == -signal.SIGKILL:
            return False
        if player.returncode != 0:
            # A player that cannot open the device fails every time: go silent and say why, once.
            self._player_command = None
            detail = problem.splitlines()[-1] if problem else f"exit code {player.returncode}"
            self.emit("error", id=None, message=f"The audio player failed ({detail}).")
            return False
        return True

    def _run_side_job(self, job: dict) -> None:
        try:
            if self._synth is None:
                raise SynthesisError(self._silent_reason)
            if job["cmd"] == "voice":
                self._synth.set_voice(job["rate"], job.get("voice"))
            else:
                self._save(job)
        except (SynthesisError, OSError, KeyError, TypeError, ValueError) as error:
            self.emit("error", id=job.get("id"), message=str(error))

    def _save(self, job: dict) -> None:
        text = str(job["text"]).strip()
        if not text:
            raise SynthesisError("Nothing to save: the text is empty.")
        target = Path(job["path"])
        # Synthesised in our own folder, then copied: pyttsx3 swallows its own write errors.
        wav = self._synthesise(text)
        try:
            shutil.copyfile(wav, target)
        except OSError as error:
            raise SynthesisError(f"Cannot write {target}: {error.strerror or error}") from error
        finally:
            wav.unlink()
        self.emit("saved", id=job["id"], path=str(target), seconds=wav_duration(target))


def _open_engine() -> tuple[Synthesiser | None, str | None]:
    try:
        return Synthesiser(), None
    except EspeakUnavailable as error:  # neither the wheel's library nor the system's
        return None, str(error)
    except Exception as error:  # any failure to load the driver or the library means no engine
        print(f"speaker: {error!r}", file=sys.stderr)
        return None, NO_ENGINE


def main() -> None:
    # The parent decides when this process ends; a Ctrl+C in the terminal must not kill it mid-word.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Events go out on the original stdout; fd 1 itself goes to /dev/null, because pyttsx3
    # prints "Audio saved to ..." after every file.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

    synth, reason = _open_engine()
    player = find_player()
    if reason is None and not has_sound_device():
        reason = NO_DEVICE
    elif reason is None and player is None:
        reason = NO_PLAYER
    process = SpeakerProcess(out, synth, player if reason is None else None, reason)
    threading.Thread(target=process.read_commands, args=(sys.stdin,), daemon=True, name="commands").start()
    process.emit("ready", silent_reason=reason)
    process.run()


if __name__ == "__main__":
    main()
