"""The paper's static recommendation layout (Intrp-MLP, notes §1.8-1.9), shared by the static model
and the parameter-count test: groups content / user embedding / item embedding, experts
S1 content, S2 content + user, S3 content + item, S4 all; per-expert hidden layers [128, 64, 32, 16]."""
from __future__ import annotations

from dataclasses import dataclass

from engine.models.experts import ExpertLayout

CONTENT, USER, ITEM = "content", "user_embedding", "item_embedding"
PAPER_HIDDEN = (128, 64, 32, 16)


@dataclass(frozen=True)
class StaticLayout:
    layout: ExpertLayout
    hidden: tuple[int, ...]
    embeddings: dict[str, tuple[int, int]]  # group -> (rows, width) of its embedding table


def static_layout(
    n_users: int, n_items: int, n_content: int = 32, factors: int = 64, hidden: tuple[int, ...] = PAPER_HIDDEN
) -> StaticLayout:
    """Input columns in the order [content, user embedding, item embedding]. The content group is
    the user's and the item's content encodings concatenated (the reference code merges c_u and c_i:
    no expert sees one without the other)."""
    layout = ExpertLayout.of(
        {CONTENT: n_content, USER: factors, ITEM: factors},
        {
            "S1": [CONTENT],
            "S2": [CONTENT, USER],
            "S3": [CONTENT, ITEM],
            "S4": [CONTENT, USER, ITEM],
        },
    )
    return StaticLayout(layout, tuple(hidden), {USER: (n_users, factors), ITEM: (n_items, factors)})
