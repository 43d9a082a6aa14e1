"""CI-sized expert lens models on the real MovieLens 100k, shared by the expert lens's test files:
the static Intrp-MLP with small experts for one epoch of large batches, the session model for one
epoch (about half a minute together on one core). Trained once into the run's model cache
($CINEWHY_CACHE), so later runs load them. The numbers the tests check (shares, exactness, parity
with the models computed directly) do not depend on how well the models learned."""
from __future__ import annotations

import functools

from engine.api import Engine
from engine.lenses import Lens

CI_STATIC = {"factors": 8, "hidden": (16, 8, 8, 4), "epochs": 1, "batch_size": 4096, "negatives": 1}
CI_SESSION = {"epochs": 1, "batch_size": 256}


def ci_settings():
    from engine.models.experts_session import SessionTraining
    from engine.models.static_model_cache import StaticModelSettings
    from engine.models.static_training import StaticTrainingConfig

    training = StaticTrainingConfig(epochs=CI_STATIC["epochs"], batch_size=CI_STATIC["batch_size"],
                                    negatives=CI_STATIC["negatives"])
    static = StaticModelSettings(factors=CI_STATIC["factors"], hidden=CI_STATIC["hidden"], training=training)
    return static, SessionTraining(**CI_SESSION)


@functools.cache
def _installed(engine_id: int, engine: Engine):
    from engine.explain.expert_explainer import ExpertExplainer

    static, session = ci_settings()
    explainer = ExpertExplainer(engine._context, static_settings=static, session_training=session)
    explainer.prepare()
    with engine._lock:  # the engine then serves this explainer for Lens.EXPERTS, as if it had made it
        engine._explainers[Lens.EXPERTS] = explainer
    return explainer


def ci_explainer(engine: Engine):
    """The prepared CI-sized ExpertExplainer, installed as `engine`'s explainer for Lens.EXPERTS."""
    return _installed(id(engine), engine)
