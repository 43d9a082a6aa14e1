"""The served session model is cached with its settings and rebuilt identically from the cache."""
import numpy as np
import torch

from engine.data.sessions import profile_window
from engine.data.types import User
from engine.models.experts_session import SessionModelConfig, SessionTraining
from engine.models.session_model_cache import obtain_session_model
from engine.profile import Profile
from tests.engine.synthetic_sittings import synthetic_sittings

torch.set_num_threads(1)
SMALL = SessionModelConfig(width=8, heads=2, feed_forward=8)
QUICK = SessionTraining(epochs=1, batch_size=16)


def test_trained_once_then_loaded_with_the_same_numbers(tmp_path):
    data = synthetic_sittings()
    first = obtain_session_model(data, tmp_path, config=SMALL, training=QUICK)
    again = obtain_session_model(data, tmp_path, config=SMALL, training=QUICK)
    assert first.trained_now and not again.trained_now
    assert again.manifest["config"]["model"]["width"] == 8 and again.manifest["lens"] == "experts"
    window = again.sittings[min(again.split.test)][0]
    profile = Profile(movies=tuple(int(m) for m in window.items), ratings=tuple(int(r) for r in window.ratings))
    a = first.predictor.window(profile_window(profile), User(0, "F"))
    b = again.predictor.window(profile_window(profile), User(0, "F"))
    np.testing.assert_array_equal(a.shares, b.shares)
    np.testing.assert_array_equal(a.prediction, b.prediction)
    other = obtain_session_model(data, tmp_path, config=SessionModelConfig(width=4, heads=2, feed_forward=4), training=QUICK)
    assert other.trained_now  # other settings are never served from this cache entry
