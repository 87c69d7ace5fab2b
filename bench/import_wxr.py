"""Import a synthetic WordPress export into a fresh SQLite site; print time and peak memory.

    .venv/bin/python bench/import_wxr.py [--posts 50000] [--runs 1] [--keep DIR]

The export is generated with a fixed seed (same file every time): posts in the block and
the classic editor, with headings, lists, quotes, tables, captions, embeds and line breaks,
spread over 5 authors, 40 nested categories and 300 tags, plus pages, attachments, drafts and
menu items. Each run migrates a new data folder, then runs ``clarion import wordpress`` in a
child process and reads the child's own peak RSS (os.wait4 → ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 20211719
WORDS = (
    "the letter foreign secretary escapees repatriation detention centre report parliament "
    "human rights border china korea refugees inquiry evidence ambassador dialogue freedom "
    "prison camp government minister statement campaign appeal justice signatories house lords"
).split()


def sentence(rng: random.Random, n: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 5)))


def block_body(rng: random.Random, wp_id: int) -> str:
    parts = []
    for _ in range(rng.randint(3, 8)):
        kind = rng.random()
        if kind < 0.6:
            parts.append(f"<!-- wp:paragraph -->\n<p>{paragraph(rng)}</p>\n<!-- /wp:paragraph -->")
        elif kind < 0.7:
            parts.append(f"<!-- wp:heading -->\n<h2>{sentence(rng, 5)}</h2>\n<!-- /wp:heading -->")
        elif kind < 0.8:
            items = "".join(f"<li>{sentence(rng, 6)}</li>" for _ in range(rng.randint(2, 5)))
            parts.append(f"<!-- wp:list -->\n<ul>{items}</ul>\n<!-- /wp:list -->")
        elif kind < 0.87:
            parts.append(
                '<!-- wp:quote -->\n<blockquote class="wp-block-quote"><p>'
                f"{sentence(rng)}</p><cite>{sentence(rng, 2)}</cite></blockquote>\n"
                "<!-- /wp:quote -->"
            )
        elif kind < 0.94:
            rows = "".join(
                f"<tr><td>{rng.choice(WORDS)}</td><td>{rng.randint(1, 999)}</td></tr>"
                for _ in range(rng.randint(2, 6))
            )
            parts.append(
                '<!-- wp:table -->\n<figure class="wp-block-table"><table><thead><tr><th>Place'
                f"</th><th>Count</th></tr></thead><tbody>{rows}</tbody></table></figure>\n"
                "<!-- /wp:table -->"
            )
        else:
            parts.append(
                f'<!-- wp:image {{"id":{wp_id}}} -->\n<figure class="wp-block-image"><img src="'
                f'https://bench.test/wp-content/uploads/2020/01/img-{wp_id % 500}.jpg" alt="'
                f'{sentence(rng, 3)}"/><figcaption>{sentence(rng, 6)}</figcaption></figure>\n'
                "<!-- /wp:image -->"
            )
    return "\n\n".join(parts)


def classic_body(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 7)):
        kind = rng.random()
        if kind < 0.75:
            lines = [sentence(rng) for _ in range(rng.randint(1, 3))]
            parts.append("\n".join(lines))
        elif kind < 0.85:
            parts.append(
                f'[caption id="attachment_1" align="aligncenter" width="600"]<img src="https://'
                f'bench.test/wp-content/uploads/2020/01/img-{rng.randint(0, 499)}.jpg" alt="x" '
                f'width="600" height="400" /> {sentence(rng, 5)}[/caption]'
            )
        elif kind < 0.92:
            parts.append("[embed]https://www.youtube.com/watch?v=dQw4w9WgXcQ[/embed]")
        else:
            parts.append(f"<strong>{sentence(rng, 4)}</strong> <em>{sentence(rng, 4)}</em>")
    return "\n\n".join(parts)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def generate(path: Path, posts: int) -> None:
    rng = random.Random(SEED)
    base = "https://bench.test"
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            f"<title>Bench</title><link>{base}</link><wp:wxr_version>1.2</wp:wxr_version>\n"
            f"<wp:base_site_url>{base}</wp:base_site_url><wp:base_blog_url>{base}"
            "</wp:base_blog_url>\n"
        )
        for a in range(5):
            out.write(
                f"<wp:author><wp:author_id>{a + 1}</wp:author_id>"
                f"<wp:author_login>{cdata(f'author{a}')}"
                f"</wp:author_login><wp:author_display_name>{cdata(f'Author {a}')}"
                "</wp:author_display_name></wp:author>\n"
            )
        categories = []
        for c in range(40):
            parent = categories[rng.randrange(len(categories))] if c >= 8 else ""
            slug = f"category-{c}"
            categories.append(slug)
            out.write(
                f"<wp:category><wp:term_id>{c + 10}</wp:term_id><wp:category_nicename>{slug}"
                f"</wp:category_nicename><wp:category_parent>{parent}</wp:category_parent>"
                f"<wp:cat_name>{cdata(f'Category {c}')}</wp:cat_name></wp:category>\n"
            )
        tags = [f"tag-{t}" for t in range(300)]
        for t, slug in enumerate(tags):
            out.write(
                f"<wp:tag><wp:term_id>{t + 100}</wp:term_id><wp:tag_slug>{slug}</wp:tag_slug>"
                f"<wp:tag_name>{cdata(f'Tag {t}')}</wp:tag_name></wp:tag>\n"
            )
        wp_id = 1000
        for n in range(posts):
            wp_id += 1
            year, month, day = 2005 + n * 20 // posts, rng.randint(1, 12), rng.randint(1, 28)
            slug = f"post-{n}-{rng.choice(WORDS)}"
            status = rng.choices(["publish", "draft", "private", "future"], [96, 2, 1, 1])[0]
            year = 2035 if status == "future" else year
            date = (
                f"{year}-{month:02d}-{day:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
            )
            body = block_body(rng, wp_id) if rng.random() < 0.6 else classic_body(rng)
            terms = "".join(
                f'<category domain="category" nicename="{c}">{cdata(c)}</category>'
                for c in rng.sample(categories, rng.randint(0, 2))
            ) + "".join(
                f'<category domain="post_tag" nicename="{t}">{cdata(t)}</category>'
                for t in rng.sample(tags, rng.randint(0, 4))
            )
            out.write(
                f"<item><title>{cdata(sentence(rng, 6))}</title>"
                f"<link>{base}/{date[:4]}/{date[5:7]}/{date[8:10]}/{slug}/</link>"
                f'<guid isPermaLink="false">{base}/?p={wp_id}</guid>'
                f"<dc:creator>{cdata(f'author{rng.randrange(5)}')}</dc:creator>"
                f"<content:encoded>{cdata(body)}</content:encoded>"
                f"<excerpt:encoded>{cdata('')}</excerpt:encoded>"
                f"<wp:post_id>{wp_id}</wp:post_id><wp:post_date>{cdata(date)}</wp:post_date>"
                f"<wp:post_date_gmt>{cdata(date)}</wp:post_date_gmt>"
                f"<wp:post_name>{cdata(slug)}</wp:post_name><wp:status>{cdata(status)}</wp:status>"
                "<wp:post_parent>0</wp:post_parent><wp:post_type>post</wp:post_type>"
                f"<wp:is_sticky>{1 if rng.random() < 0.001 else 0}</wp:is_sticky>{terms}"
                "<wp:postmeta><wp:meta_key>_edit_last</wp:meta_key><wp:meta_value>1"
                "</wp:meta_value></wp:postmeta></item>\n"
            )
        for p in range(max(1, posts // 1000)):
            wp_id += 1
            out.write(
                f"<item><title>Page {p}</title><link>{base}/page-{p}/</link>"
                f"<content:encoded>{cdata(classic_body(rng))}</content:encoded>"
                f"<wp:post_id>{wp_id}</wp:post_id><wp:post_date>2020-01-01 10:00:00</wp:post_date>"
                f"<wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt>"
                f"<wp:post_name>page-{p}</wp:post_name><wp:status>publish</wp:status>"
                "<wp:post_type>page</wp:post_type></item>\n"
                f"<item><title>Menu {p}</title><wp:post_id>{wp_id + 500000}</wp:post_id>"
                "<wp:status>publish</wp:status><wp:post_type>nav_menu_item</wp:post_type></item>\n"
            )
        out.write("</channel>\n</rss>\n")


def run_child(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """Run a child; return (wall seconds, its CPU seconds, its peak RSS in MiB, its output)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        log.seek(0)
        output = log.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", help="generate the export here and keep it")
    parser.add_argument("--reference-only", action="store_true", help="only time parsing the file")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clarion-bench-import-"))
    export = Path(options.keep) if options.keep else work / "export.xml"
    try:
        if not export.exists():
            started = time.perf_counter()
            generate(export, options.posts)
            print(
                f"generated {export} ({export.stat().st_size / 2**20:.1f} MiB, "
                f"{options.posts} posts) in {time.perf_counter() - started:.1f}s"
            )
        # The reference, in the same run: only stream-parsing the file (no database, no
        # conversion), the floor any import of it stands on.
        parse = (
            "import sys; from clarion.importers import wordpress; "
            "print(sum(1 for _ in wordpress.read(sys.argv[1])))"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clarion.settings"}
        ref_wall, ref_cpu, ref_peak, _ = run_child([sys.executable, "-c", parse, str(export)], env)
        print(
            f"reference (parse only): {ref_wall:.1f}s wall, {ref_cpu:.1f}s CPU, "
            f"peak RSS {ref_peak} MiB"
        )
        if options.reference_only:
            return
        times, cpus, peaks = [], [], []
        for run in range(options.runs):
            data = work / f"data-{run}"
            env = {**os.environ, "CLARION_DATA_DIR": str(data), "CLARION_SECRET_KEY": "b" * 50}
            env.pop("DATABASE_URL", None)
            run_child([sys.executable, "-m", "clarion", "manage", "migrate", "-v0"], env)
            seconds, cpu, peak, output = run_child(
                [sys.executable, "-m", "clarion", "import", "wordpress", str(export)], env
            )
            times.append(seconds)
            cpus.append(cpu)
            peaks.append(peak)
            print(
                f"run {run + 1}: {seconds:.1f}s wall, {cpu:.1f}s CPU, peak RSS {peak} MiB "
                f"({options.posts / seconds:.0f} posts/s wall, {options.posts / cpu:.0f}/s CPU)"
            )
            if run == 0:
                print(output)
            shutil.rmtree(data)
        print(
            f"median of {options.runs}: {statistics.median(times):.1f}s wall, "
            f"{statistics.median(cpus):.1f}s CPU, peak RSS {statistics.median(peaks)} MiB; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print(
            f"import / parse-only: {statistics.median(times) / ref_wall:.0f}x wall, "
            f"{statistics.median(cpus) / ref_cpu:.0f}x CPU"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
