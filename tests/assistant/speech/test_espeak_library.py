"""Speech from the espeakng-loader wheel: a machine without the system's espeak-ng (no program, no
library) still synthesises, for the tests' questions, the pronunciations and pyttsx3's answers."""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.speech import espeak_library
from assistant.speech.espeak_library import EspeakUnavailable

REPO = Path(__file__).resolve().parents[3]
SENTENCE = "Because you liked Toy Story, you may enjoy this one."

# Run in a child with only the wheel allowed and nothing on PATH: synthesises SENTENCE, then reports
# the WAV and every libespeak file mapped into the process.
_SYNTHESISE_AND_REPORT = """
import json, sys, wave
from pathlib import Path
import numpy as np
from assistant.speech.espeak_engine import engine
from assistant.speech.synthetic import synthesise
path = synthesise(sys.argv[1], Path(sys.argv[2]))
mapped = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libespeak" in line})
print(json.dumps({"source": engine().library.source, "name": engine().library.name, "mapped": mapped}))
"""


def wheel_directory() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_library_path()).parent


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No espeak-ng program reachable (an empty PATH), only the wheel's library allowed."""
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ESPEAK_DATA_PATH", "PYTHONPATH")}
    return {**env, "PATH": str(empty_bin), "PYTHONPATH": str(REPO), espeak_library.SOURCE_ENV: "wheel", **extra}


def mapped_espeak_files(pid: int) -> set[str]:
    return {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "libespeak" in line}


needs_proc = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps (Linux)")


@needs_proc
def test_a_sentence_is_synthesised_from_the_wheel_without_a_system_espeak(tmp_path):
    wav_path = tmp_path / "sentence.wav"
    result = subprocess.run([sys.executable, "-c", _SYNTHESISE_AND_REPORT, SENTENCE, str(wav_path)],
                            env=bare_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["source"] == "wheel"
    assert Path(report["name"]).parent == wheel_directory()
    assert report["mapped"] and all(Path(f).parent == wheel_directory() for f in report["mapped"]), report
    with wave.open(str(wav_path), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    assert 1.5 < seconds < 8.0  # ten words at 160 words a minute
    loud = np.abs(samples) > 1000
    assert np.sqrt(np.mean(samples ** 2)) > 300 and loud.mean() > 0.1  # speech, not silence or a click


@needs_proc
def test_the_speech_process_speaks_with_the_wheels_library(tmp_path):
    from assistant.speech.speaker import Speaker

    speaker = Speaker(env={**bare_env(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)})
    try:
        seconds = speaker.save_wav(SENTENCE, tmp_path / "answer.wav")
        mapped = mapped_espeak_files(speaker.pid)
    finally:
        speaker.close()
    assert seconds > 1.5
    assert mapped and all(Path(f).parent == wheel_directory() for f in mapped), mapped


def test_the_wheel_comes_first():
    library = espeak_library._first_loadable(espeak_library.SOURCES)
    assert library.source == "wheel" and library.data_parent is not None
    assert (Path(library.data_parent) / "espeak-ng-data" / "phontab").is_file()


def test_without_the_wheel_the_system_library_is_used(monkeypatch):
    def no_wheel():
        raise OSError("the espeakng-loader package is not installed")

    # The wheel's file stands in for a system copy, so that this runs on a machine without one.
    monkeypatch.setattr(espeak_library, "_from_wheel", no_wheel)
    monkeypatch.setattr(espeak_library, "SYSTEM_NAMES", ("libno-such-espeak.so.1", str(wheel_directory() / "libespeak-ng.so.1")))
    library = espeak_library._first_loadable(espeak_library.SOURCES)
    assert library.source == "system" and library.data_parent is None  # the library's own default data
    assert isinstance(library.handle, ctypes.CDLL)


def test_with_neither_the_message_says_espeak_ng_is_needed(monkeypatch):
    monkeypatch.setattr(espeak_library, "_from_wheel", lambda: (_ for _ in ()).throw(OSError("not installed")))
    monkeypatch.setattr(espeak_library, "SYSTEM_NAMES", ("libno-such-espeak.so.1",))
    monkeypatch.setattr(espeak_library.ctypes.util, "find_library", lambda name: None)
    with pytest.raises(EspeakUnavailable, match="espeak-ng is needed.*wheel: not installed.*system: no libespeak-ng"):
        espeak_library._first_loadable(espeak_library.SOURCES)


def test_an_unknown_source_choice_is_refused(monkeypatch):
    monkeypatch.setenv(espeak_library.SOURCE_ENV, "bundled")
    with pytest.raises(EspeakUnavailable, match="CINEWHY_ESPEAK='bundled' is not one of wheel, system"):
        espeak_library._allowed_sources()
    monkeypatch.setenv(espeak_library.SOURCE_ENV, "System")
    assert espeak_library._allowed_sources() == ("system",)


def test_the_speech_process_without_any_espeak_says_what_is_needed(tmp_path):
    # A child where neither source loads: its silent reason is the one message about espeak-ng.
    script = (
        "import ctypes.util\n"
        "import assistant.speech.espeak_library as lib\n"
        "def no_wheel(): raise OSError('not installed')\n"
        "lib._from_wheel = no_wheel\n"
        "lib.SYSTEM_NAMES = ('libno-such-espeak.so.1',)\n"
        "ctypes.util.find_library = lambda name: None\n"
        "from assistant.speech.speaker_process import _open_engine\n"
        "synth, reason = _open_engine()\n"
        "print(synth is None, reason)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=bare_env(tmp_path, CINEWHY_ESPEAK=""),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True espeak-ng is needed for speech"), result.stdout
