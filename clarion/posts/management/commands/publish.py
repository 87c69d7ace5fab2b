from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clarion.posts import frontmatter, services


class Command(BaseCommand):
    help = (
        "Create or update posts from Markdown files with YAML front matter (title, slug, "
        "date, categories, tags, author, excerpt, status: draft/published/scheduled, notify). "
        "All files are checked first and saved in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE.md")

    def handle(self, *args, files, **options):
        try:
            documents = [frontmatter.parse(path) for path in files]
        except frontmatter.FrontMatterError as exc:
            raise CommandError(str(exc)) from None
        slugs = {}
        for doc in documents:
            if doc.slug in slugs:
                raise CommandError(
                    f"{doc.path}:1: slug '{doc.slug}' is also used by {slugs[doc.slug]}"
                )
            slugs[doc.slug] = doc.path
        with transaction.atomic():
            results = [services.upsert_document(doc) for doc in documents]
        for doc, (post, created) in zip(documents, results, strict=True):
            verb = "created" if created else "updated"
            self.stdout.write(f"{doc.path}: {verb} {post.status} post {post.get_absolute_url()}")
