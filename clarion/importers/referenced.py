"""What posts and pages refer to: their authors, categories and tags, and the media files
(WordPress attachments) their bodies show. Part of the import in clarion.importers.load."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.text import slugify

from clarion.posts.models import Author, Category, Tag

from . import wordpress
from .models import WordPressObject
from .summary import ImportFailed, cut, values_digest

Kind = WordPressObject.Kind


@dataclass(slots=True)
class Attachment:
    wp_id: int
    rel: str | None
    parent_id: int
    alt: str
    item: wordpress.Item | None = None
    name: str | None = None  # storage name once copied


class Referenced:
    """The import's steps for authors, terms and media (mixed into its ``_Import``)."""

    # -- authors, categories, tags ---------------------------------------------------------

    def author_for(self, login: str) -> Author | None:
        login = login.strip()
        if not login:
            return None
        if login in self.author_objs:
            return self.author_objs[login]
        wp = self.authors.get(login) or wordpress.Author(login=login)
        slug = cut(slugify(login, allow_unicode=True), Author, "slug") or "author"
        values = {"display_name": cut(wp.name, Author, "display_name")}
        digest = values_digest(values)
        mapping = self.mapped(Kind.AUTHOR, login)
        author = mapping.author if mapping else None
        if author is None:
            author = (
                Author.objects.filter(user__username=login).first()
                or Author.objects.filter(slug=slug).first()
            )
            if author is None:
                author = Author.objects.create(slug=slug, **values)
                self.summary.count("authors", "created")
            else:
                self.summary.count("authors", "unchanged")  # an existing profile is kept
            self._record(Kind.AUTHOR, login, "author", author, digest, mapping)
        elif mapping.digest != digest:
            author.display_name = values["display_name"]
            author.save()
            self._record(Kind.AUTHOR, login, "author", author, digest, mapping)
            self.summary.count("authors", "updated")
        else:
            self.summary.count("authors", "unchanged")
        self.author_objs[login] = author
        return author

    def load_terms(self) -> None:
        for term in self.terms.values():
            self.term_for(term.taxonomy, term.slug, term.name)
        for term in self.terms.values():
            if term.taxonomy == "category" and term.parent_slug:
                child = self.term_for("category", term.slug, term.name)
                parent = self.term_for("category", term.parent_slug, term.parent_slug)
                if child.parent_id != parent.pk:
                    child.parent = parent
                    child.save(update_fields=["parent"])

    def term_for(self, taxonomy: str, slug: str, name: str) -> Category | Tag:
        key = (taxonomy, slug)
        if key in self.term_objs:
            return self.term_objs[key]
        model, kind, kind_label = (
            (Category, Kind.CATEGORY, "categories")
            if taxonomy == "category"
            else (Tag, Kind.TAG, "tags")
        )
        declared = self.terms.get(key)
        wp_id = str(declared.term_id) if declared and declared.term_id else f"slug:{slug}"
        values = {"name": cut(declared.name if declared else name, model, "name")}
        if model is Category:
            values["description"] = declared.description if declared else ""
            values["parent"] = declared.parent_slug if declared else ""
        digest = values_digest(values)
        values.pop("parent", None)
        mapping = self.mapped(kind, wp_id)
        obj = getattr(mapping, model._meta.model_name) if mapping else None
        clarion_slug = cut(slug, model, "slug") or slugify(values["name"], allow_unicode=True)
        if obj is None:
            obj = model.objects.filter(slug=clarion_slug).first()
            if obj is None:
                obj = model.objects.create(slug=clarion_slug or None, **values)
                self.summary.count(kind_label, "created")
            else:
                self.summary.count(kind_label, "unchanged")  # adopt the site's own term
            self._record(kind, wp_id, model._meta.model_name, obj, digest, mapping)
        elif mapping.digest != digest:
            for attr, value in values.items():
                setattr(obj, attr, value)
            obj.save()
            self._record(kind, wp_id, model._meta.model_name, obj, digest, mapping)
            self.summary.count(kind_label, "updated")
        else:
            self.summary.count(kind_label, "unchanged")
        self.term_objs[key] = obj
        return obj

    # -- media -----------------------------------------------------------------------------

    def load_attachments(self) -> None:
        for att in self.attachments.values():
            try:
                self._load_attachment(att)
            except Exception as exc:
                label = att.item.label() if att.item else f"attachment {att.wp_id}"
                raise ImportFailed(f"{label}: {type(exc).__name__}: {exc}") from exc

    def _load_attachment(self, att: Attachment) -> None:
        label = f"attachment {att.wp_id}"
        if not att.rel:
            self.summary.count("attachments", "skipped")
            self.summary.note("attachment without a file address", label)
            return
        att.name = self.media.store(att.rel, label)
        if att.name is None:
            self.summary.count("attachments", "skipped")
            return
        digest = values_digest({"file": att.name})
        mapping = self.mapped(Kind.ATTACHMENT, att.wp_id)
        if mapping is None:
            self._record(Kind.ATTACHMENT, att.wp_id, "file", att.name, digest)
            self.summary.count("attachments", "created")
        elif mapping.digest != digest:
            self._record(Kind.ATTACHMENT, att.wp_id, "file", att.name, digest, mapping)
            self.summary.count("attachments", "updated")
        else:
            self.summary.count("attachments", "unchanged")
        old = self.old.path_of(self.old.absolute("/wp-content/uploads/" + att.rel))
        self.redirect(old, target=self.media.url(att.name))

    def attachment_lookup(self, wp_id: int):
        att = self.attachments.get(wp_id)
        if att is None or att.name is None:
            return None
        return self.media.url(att.name), att.alt
