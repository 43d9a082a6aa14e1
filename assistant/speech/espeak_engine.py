"""libespeak-ng driven through ctypes: text to 16-bit samples, and a word's IPA. What the
`espeak-ng --stdout` and `espeak-ng --ipa` programs did, without needing that program.

The library keeps one global state (voice, rate, callback) per process, so there is one engine per
process, and each call holds its lock. Not for the speech child process, where pyttsx3 drives the
same library in its own mode."""
from __future__ import annotations

import ctypes
import threading

import numpy as np

from assistant.speech.espeak_library import EspeakLibrary, EspeakUnavailable, load

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it, unreadable data makes the library call exit()
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_RATE = 1
_PHONEMES_IPA = 0x02
_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakEngine:
    def __init__(self, library: EspeakLibrary):
        self.library = library
        self._lock = threading.Lock()
        lib = self._lib = library.handle
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        data = library.data_parent.encode() if library.data_parent else None
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise EspeakUnavailable(f"espeak-ng ({library.source}: {library.name}) could not start")
        self._chunks: list[bytes] = []
        self._callback = _SynthCallback(self._on_samples)  # kept: the library holds only a raw pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None
        try:
            self._select_voice("en-us")  # also proves that the data folder is readable
        except OSError as error:
            where = f"{library.source}: {library.name}"
            raise EspeakUnavailable(f"espeak-ng ({where}) cannot read its data: {error}") from error

    def synthesise(self, text: str, voice: str = "en-us", words_per_minute: int = 175) -> np.ndarray:
        """`text` spoken as int16 mono samples at `sample_rate`. Raises OSError when espeak-ng refuses."""
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            self._select_voice(voice)
            self._lib.espeak_SetParameter(_RATE, int(words_per_minute), 0)
            self._chunks = []
            status = self._lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE,
                                            None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if status != _OK:
            raise OSError(f"espeak-ng could not synthesise {text!r} (error {status})")
        return np.frombuffer(b"".join(chunks), dtype=np.int16)

    def ipa(self, text: str, voice: str = "en-us") -> str:
        """The IPA espeak-ng would speak for `text` (clauses joined by spaces), as `espeak-ng --ipa`."""
        buffer = ctypes.create_string_buffer(text.encode("utf-8"))
        cursor = ctypes.c_void_p(ctypes.addressof(buffer))
        parts = []
        with self._lock:
            self._select_voice(voice)
            while cursor.value:  # the library moves the cursor one clause on, to NULL at the end
                phonemes = self._lib.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, _PHONEMES_IPA)
                if phonemes:
                    parts.append(phonemes.decode("utf-8", errors="replace").strip())
        return " ".join(part for part in parts if part)

    def _select_voice(self, voice: str) -> None:
        if voice == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(voice.encode("utf-8")) != _OK:
            raise OSError(f"espeak-ng has no voice {voice!r} (data: {self.library.data_parent or 'built-in'})")
        self._voice = voice

    def _on_samples(self, samples, count, events) -> int:
        if samples and count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0  # 0: go on


_engine_lock = threading.Lock()
_engine: EspeakEngine | EspeakUnavailable | None = None  # the engine, or why it could not start


def engine() -> EspeakEngine:
    """The process's engine, started on the first call (a failure is kept: the library cannot be
    initialised twice). Raises EspeakUnavailable."""
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                _engine = EspeakEngine(load())
            except EspeakUnavailable as error:
                _engine = error
        if isinstance(_engine, EspeakUnavailable):
            raise _engine
        return _engine


def unavailable_reason() -> str | None:
    """Why this process cannot synthesise or transcribe with espeak-ng, or None when it can."""
    try:
        engine()
    except EspeakUnavailable as error:
        return str(error)
    return None


__all__ = ["EspeakEngine", "engine", "unavailable_reason"]
