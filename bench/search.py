"""Site search on N generated posts: indexing time and query latency.

    .venv/bin/python bench/search.py                       # SQLite, 100,000 posts
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clarion_search_bench \
        .venv/bin/python bench/search.py --posts 100000

Generates N posts of realistic length from a fixed seed (a Zipf-distributed vocabulary of
made-up words mixed with real English words), creates them with bulk_create, indexes them
with the same rebuild function as `clarion manage rebuild_search_index`, then runs a fixed
list of 200 queries and prints p50/p95/p99 latency for the search function, for the whole
`/search/` page (Django's test client: middleware, view, template) and for the suggestions
endpoint. The posts are kept between runs (same N and seed): use --regenerate to start again.
The SQLite database lives in --data-dir (default /tmp/clarion-bench-search).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL_WORDS = """
letter foreign secretary minister parliament government human rights refugees asylum
forced repatriation escapees escapee detention centre prison labour camps execution
conditions mistreatment border lockdown pandemic authorities international community
china korea north south japan russia ukraine india britain europe london beijing seoul
shenyang tumen pyongyang embassy ambassador dialogue convention protocol humanitarian
freedom religion belief persecution genocide uyghur tibet hong kong democracy election
vote debate committee inquiry report evidence witness testimony court judge law justice
policy sanctions trade economy budget health education housing energy climate water
children women family church faith charity volunteers campaign petition signatories
lords commons peer member speech question answer amendment bill act statute reform
police security defence army navy war peace treaty alliance nations united council
history memory archive document publication article interview statement press release
morning evening week month year decade century today tomorrow yesterday summer winter
""".split()

SYLLABLES = [
    c + v
    for c in ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
    for v in ["a", "e", "i", "o", "u", "ai", "ou", "ei"]
]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words = set(REAL_WORDS)
    made_up = []
    while len(made_up) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 2, 3, 3, 3, 4])))
        if len(word) >= 4 and word not in words:
            words.add(word)
            made_up.append(word)
    # Real words are spread through the frequency ranks, from common to rare.
    vocab = made_up[:]
    for i, word in enumerate(REAL_WORDS):
        vocab.insert(min(len(vocab), 20 + i * 37), word)
    return vocab


class TextGenerator:
    def __init__(self, seed: int, vocab_size: int = 30_000):
        self.rng = random.Random(seed)
        self.vocab = vocabulary(self.rng, vocab_size)
        # Zipf's law: the word of rank r has weight 1/r.
        weights = [1 / (rank + 1) for rank in range(len(self.vocab))]
        total = 0.0
        self.cum = []
        for w in weights:
            total += w
            self.cum.append(total)

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=n)

    def sentence(self) -> str:
        words = self.words(self.rng.randint(8, 22))
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 7)))

    def post(self) -> tuple[str, str, list[str]]:
        title = " ".join(self.words(self.rng.randint(4, 10))).capitalize()
        excerpt = self.sentence() + " " + self.sentence()
        # About 550 words on average, from a short note to a long letter.
        n = max(1, int(self.rng.lognormvariate(1.7, 0.5)))
        return title, excerpt, [self.paragraph() for _ in range(n)]


def setup_django(data_dir: Path) -> None:
    os.environ.setdefault("CLARION_DATA_DIR", str(data_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clarion.settings")
    os.environ.setdefault("CLARION_LOG_LEVEL", "WARNING")
    # One client sends all 200 queries in seconds: past the per-address limit on suggestions
    # (120 a minute), which is not what is being measured.
    os.environ.setdefault("CLARION_THROTTLE", "0")
    import django

    django.setup()


def generate(n: int, seed: int, batch: int = 2000) -> None:
    from django.db import connection, transaction

    from clarion.posts.markdown import RENDERER_VERSION
    from clarion.posts.models import Author, Category, Post, Tag

    gen = TextGenerator(seed)
    rng = random.Random(seed + 1)
    author, _ = Author.objects.get_or_create(slug="bench", defaults={"display_name": "Bench"})
    categories = [
        Category.objects.get_or_create(slug=f"cat-{i}", defaults={"name": name.title()})[0]
        for i, name in enumerate(REAL_WORDS[:20])
    ]
    tags = [
        Tag.objects.get_or_create(slug=f"tag-{i}", defaults={"name": f"{a} {b}"})[0]
        for i, (a, b) in enumerate(zip(REAL_WORDS[20:120], REAL_WORDS[120:220], strict=False))
    ]
    now = datetime.now(UTC)
    cat_through = Post.categories.through
    tag_through = Post.tags.through
    started = time.monotonic()
    made = 0
    while made < n:
        posts = []
        for i in range(made, min(n, made + batch)):
            title, excerpt, paragraphs = gen.post()
            body = "\n\n".join(paragraphs)
            roll = rng.random()
            if roll < 0.95:
                status, when = Post.Status.PUBLISHED, now - timedelta(minutes=10 * (n - i))
            elif roll < 0.98:
                status, when = Post.Status.DRAFT, None
            else:
                status, when = Post.Status.SCHEDULED, now + timedelta(days=rng.randint(1, 30))
            posts.append(
                Post(
                    title=title,
                    slug=f"post-{i}",
                    excerpt=excerpt if rng.random() < 0.5 else "",
                    body=body,
                    # What markdown.render gives for plain paragraphs, without its cost.
                    body_html="".join(f"<p>{p}</p>\n" for p in paragraphs),
                    body_html_key=hashlib.sha256(f"{RENDERER_VERSION}:{body}".encode()).hexdigest(),
                    status=status,
                    published_at=when,
                    author=author,
                )
            )
        with transaction.atomic():
            created = Post.objects.bulk_create(posts)
            if connection.vendor == "sqlite" or created[0].pk is None:
                ids = list(
                    Post.objects.filter(slug__in=[p.slug for p in posts]).values_list(
                        "pk", flat=True
                    )
                )
            else:
                ids = [p.pk for p in created]
            cat_through.objects.bulk_create(
                [cat_through(post_id=pk, category=rng.choice(categories)) for pk in ids]
            )
            tag_through.objects.bulk_create(
                [
                    tag_through(post_id=pk, tag=t)
                    for pk in ids
                    for t in rng.sample(tags, rng.randint(0, 3))
                ]
            )
        made += len(posts)
        print(f"\r  generated {made:,}/{n:,} posts", end="", flush=True)
    print(f"\r  generated {n:,} posts in {time.monotonic() - started:.1f} s")


def queries(seed: int, count: int = 200) -> list[str]:
    """A fixed mix of what readers type, from common words to phrases and operators."""
    gen = TextGenerator(seed)
    rng = random.Random(seed + 2)
    vocab = gen.vocab
    common = vocab[:100]
    middle = vocab[100:5000]
    rare = vocab[5000:]
    kinds = (
        ["middle"] * 70
        + ["rare"] * 20
        + ["common"] * 10
        + ["two"] * 40
        + ["phrase"] * 20
        + ["prefix"] * 15
        + ["exclude"] * 10
        + ["or"] * 10
        + ["real"] * 5
    )
    out = []
    for kind in kinds[:count]:
        if kind == "middle":
            out.append(rng.choice(middle))
        elif kind == "rare":
            out.append(rng.choice(rare))
        elif kind == "common":
            out.append(rng.choice(common))
        elif kind == "two":
            out.append(f"{rng.choice(middle)} {rng.choice(middle + common)}")
        elif kind == "phrase":
            words = gen.sentence().rstrip(".").lower().split()
            start = rng.randrange(max(1, len(words) - 2))
            out.append('"' + " ".join(words[start : start + 2]) + '"')
        elif kind == "prefix":
            out.append(rng.choice(middle)[:4] + "*")
        elif kind == "exclude":
            out.append(f"{rng.choice(middle)} -{rng.choice(common)}")
        elif kind == "or":
            out.append(f"{rng.choice(middle)} OR {rng.choice(middle)}")
        else:
            out.append(rng.choice(["forced repatriation", "Shenyang", "escapee", "human rights"]))
    return out


def prefix_queries(seed: int, per_length: int = 8) -> list[str]:
    """Prefixes of 3 to 7 letters of mid-frequency words, and of real words cut where
    stemming cuts them differently (``shenya*``, ``repatria*``): what ``word*`` costs when
    the prefix is longer than the stem of some of its words, or shorter."""
    gen = TextGenerator(seed)
    rng = random.Random(seed + 3)
    middle = gen.vocab[100:5000]
    out = []
    for length in range(3, 8):
        words = [w for w in middle if len(w) > length]
        out += [rng.choice(words)[:length] + "*" for _ in range(per_length)]
    return out + ["shenya*", "Sheny*", "repatria*", "escap*", "detent*"]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def timed(fn, items, passes: int, warm: bool = True) -> list[float]:
    for item in items if warm else ():  # warm caches: compiled templates, the planner
        fn(item)
    samples = []
    for _ in range(passes):
        for item in items:
            started = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000, help="How many posts (100,000).")
    parser.add_argument("--seed", type=int, default=20210719, help="Seed of the text generator.")
    parser.add_argument("--passes", type=int, default=3, help="Timed passes over the queries.")
    parser.add_argument("--data-dir", default="/tmp/clarion-bench-search", help="SQLite folder.")
    parser.add_argument("--regenerate", action="store_true", help="Delete and regenerate posts.")
    parser.add_argument("--skip-rebuild", action="store_true", help="Reuse the current index.")
    parser.add_argument(
        "--reference-queries",
        type=int,
        default=20,
        help="How many queries to time with the LIKE reference (slow: a full scan each).",
    )
    args = parser.parse_args()

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from clarion.posts.models import Post
    from clarion.search.backends import get_search_backend, load_backend
    from clarion.search.models import SearchDocument

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    print(
        f"Search benchmark: {connection.vendor}, {args.posts:,} posts, seed {args.seed}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}"
    )
    if args.regenerate or Post.objects.count() != args.posts:
        print("  clearing old posts…")
        SearchDocument.objects.all().delete()
        Post.objects.all().delete()
        generate(args.posts, args.seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # As autovacuum would after a load this size: the planner needs row counts.
                cursor.execute("ANALYZE")

    backend = load_backend(rebuilding=True)
    if not args.skip_rebuild:
        started = time.monotonic()
        count = backend.rebuild(batch_size=1000)
        elapsed = time.monotonic() - started
        print(f"  indexed {count:,} posts in {elapsed:.1f} s ({count / elapsed:,.0f} posts/s)")
    if connection.vendor == "sqlite":
        size = sum(p.stat().st_size for p in data_dir.glob("clarion.sqlite3*"))
        print(f"  database file(s): {size / 1e6:,.0f} MB")
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_total_relation_size('search_searchdocument'),"
                " pg_relation_size('search_doc_vector_gin')"
            )
            table, gin = cursor.fetchone()
        print(f"  search table {table / 1e6:,.0f} MB, of which GIN index {gin / 1e6:,.0f} MB")
    get_search_backend.cache_clear()
    backend = get_search_backend()

    # Updating one post: what the worker does after an author saves.
    ids = list(Post.objects.live().order_by("?").values_list("pk", flat=True)[:50])
    update = timed(lambda pk: backend.index_posts([pk]), ids, 1)
    SearchDocument.objects.filter(pk__in=ids).delete()
    reindex = timed(lambda pk: backend.index_posts([pk]), ids, 1)

    if connection.vendor == "postgresql":
        # What autovacuum does on a live site (this server may run without it): the updates
        # above left their entries in the GIN indexes' pending lists, which every search
        # reads until they are merged, so each run would measure the runs before it.
        backend.clean_pending_lists()

    qs = queries(args.seed)
    totals = [backend.search(q).total for q in qs]
    print(
        f"  {len(qs)} queries; matches per query: median {statistics.median(totals):,.0f}, "
        f"max {max(totals):,}; {sum(1 for t in totals if t == 0)} with none"
    )
    client = Client(HTTP_HOST="127.0.0.1")

    def page(q):
        response = client.get("/search/", {"q": q})
        assert response.status_code == 200, (q, response.status_code)

    def suggest(q):
        response = client.get("/search/suggest/", {"q": q.strip('"*-')[:5]})
        assert response.status_code == 200, (q, response.status_code)

    prefixes = prefix_queries(args.seed)
    rows = [
        ("search function", timed(lambda q: backend.search(q), qs, args.passes)),
        ("search function, prefixes", timed(lambda q: backend.search(q), prefixes, args.passes)),
        ("/search/ page, prefixes", timed(page, prefixes, args.passes)),
        ("/search/ page", timed(page, qs, args.passes)),
        # The same page with no query: the site's header, sidebar and footer alone.
        ("/search/?q= (page chrome only)", timed(lambda q: page(""), qs, args.passes)),
        ("/search/suggest/", timed(suggest, qs, args.passes)),
        ("re-index 1 post (unchanged)", update),
        ("index 1 post (new document)", reindex),
    ]
    if args.reference_queries:
        # The reference: WordPress core's search, a LIKE '%word%' over title, excerpt and
        # body, which is what the plain fallback backend does.
        fallback = load_backend("clarion.search.backends.fallback")
        sample = qs[:: max(1, len(qs) // args.reference_queries)][: args.reference_queries]
        rows.append(
            (
                "reference: LIKE search",
                timed(lambda q: fallback.search(q), sample, 1, warm=False),
            )
        )
        rows.append(("search function, same queries", timed(backend.search, sample, 1)))
    print(f"\n  {'measure':<30} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, samples in rows:
        p50, p95, p99 = percentiles(samples)
        print(f"  {name:<30} {len(samples):>5} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f}")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
