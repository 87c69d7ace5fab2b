from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clarion.posts import frontmatter, services
from clarion.posts.models import Post, SiteSettings


class Command(BaseCommand):
    help = (
        "Create or update posts from Markdown files with YAML front matter (title, slug, "
        "date, categories, tags, author, excerpt, status: draft/published/scheduled, notify). "
        "All files are checked first and saved in one transaction; each file's outcome is "
        "printed (created, updated, unchanged), with when a scheduled post goes out."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE.md")

    def handle(self, *args, files, **options):
        documents, refusals, slugs = [], [], {}
        for path in files:
            try:
                doc = frontmatter.parse(path)
            except frontmatter.FrontMatterError as exc:
                refusals.append(f"{exc}")
                continue
            if doc.slug in slugs:
                refusals.append(
                    f"{doc.path}:1: slug '{doc.slug}' is also used by {slugs[doc.slug]}"
                )
                continue
            slugs[doc.slug] = doc.path
            documents.append(doc)
        if refusals:
            # All or nothing: one refused file means no file is saved.
            saved = "nothing was saved"
            if len(files) > 1:
                saved += f" ({len(refusals)} of {len(files)} files refused)"
            if len(refusals) == 1:
                raise CommandError(f"{refusals[0]}; {saved}")
            raise CommandError("\n".join([*refusals, saved]))
        with transaction.atomic():
            results = [services.upsert_document(doc) for doc in documents]
        zone = SiteSettings.load().tzinfo
        for doc, (post, outcome) in zip(documents, results, strict=True):
            line = f"{doc.path}: {outcome} {post.status} post {post.get_absolute_url()}"
            if post.status == Post.Status.SCHEDULED and post.published_at:
                local = post.published_at.astimezone(zone)
                line += f", goes out {local:%Y-%m-%d %H:%M} {zone.key} time (UTC{local:%z})"
            self.stdout.write(line)
