"""The ranking policy both engines implement (docs/search.md, "Ranking policy").

1. Tiers: every clause looked for in the title; else in the title, excerpt and category or
   tag names (PostgreSQL also reads the opening of the body here); else anywhere.
2. Within the two upper tiers, the newest RANK_DEPTH live posts of the tier by a weighted
   score (FTS5's bm25(), PostgreSQL's ts_rank_cd()) with these weights, then the rest of
   the tier; the body tier has no score.
3. Ties, and everything without a score: newest first (published_at), then the higher id.
"""

from __future__ import annotations

# How much an occurrence counts where it stands, relative to one in the body.
TITLE_WEIGHT = 10.0
EXCERPT_WEIGHT = 4.0
NAMES_WEIGHT = 4.0  # category and tag names
BODY_WEIGHT = 1.0

TIER_TITLE, TIER_OPENING, TIER_BODY = 2, 1, 0

# Within the title and opening tiers, the newest this many live posts are ordered by their
# score, the rest of the tier by date. The bound keeps the scores computed per page to this
# many on PostgreSQL (each reads a vector, about 10 us); 50 is the first five pages.
RANK_DEPTH = 50
