"""The post editor's form: Markdown body, inline categories and tags, image upload, and the
Save draft / Schedule / Publish buttons resolved to a status on the server."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.text import slugify

from clarion.posts import markdown
from clarion.posts.models import Category, Post, Tag

from . import images
from .subscribers import subscriber_count

# Submit buttons of the change form and the action each one asks for.
BUTTONS = {
    "_save_draft": "draft",
    "_schedule": "schedule",
    "_publish": "publish",
    "_preview": "preview",
}
ACTIONS = {"save", *BUTTONS.values()}
CONFIRM_FIELD = "_email_confirmed"


@dataclass(frozen=True)
class EditorAction:
    name: str  # save | draft | schedule | publish | preview
    email_confirmed: bool = False


def action_from(data) -> EditorAction:
    confirmed = data.get(CONFIRM_FIELD, "")
    if confirmed in ACTIONS:
        return EditorAction(confirmed, email_confirmed=True)
    for button, name in BUTTONS.items():
        if button in data:
            return EditorAction(name)
    return EditorAction("save")


def split_names(value: str) -> list[str]:
    seen, names = set(), []
    for name in (value or "").split(","):
        name = " ".join(name.split())[:100]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def get_or_create_named(model, name: str):
    """The category or tag called ``name`` (any case), created if there is none."""
    found = model.objects.filter(name__iexact=name).first()
    if found is not None:
        return found
    max_length = model._meta.get_field("slug").max_length
    base = slugify(name, allow_unicode=True)[: max_length - 4] or model._meta.model_name
    slug, n = base, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return model.objects.create(name=name, slug=slug)


def stripped(value):
    """For an image field's cleaned value: a new upload comes back without its metadata."""
    if isinstance(value, UploadedFile):
        return images.clean_copy(value)
    return value


class PostForm(forms.ModelForm):
    new_categories = forms.CharField(
        label="New categories",
        required=False,
        max_length=1000,
        help_text="Names separated by commas; they are created when you save.",
    )
    new_tags = forms.CharField(
        label="New tags",
        required=False,
        max_length=1000,
        help_text="Names separated by commas, e.g. human rights, North Korea.",
    )
    image_upload = forms.FileField(
        label="Add an image",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
        help_text="JPEG, PNG, WebP or GIF. It is added to the end of the text when you save "
        "(or where the cursor is, straight away, with JavaScript on). You can also drop "
        "images onto the text.",
    )
    image_alt = forms.CharField(
        label="Image description",
        required=False,
        max_length=300,
        help_text="Alt text: what the image shows, for people who cannot see it.",
    )

    class Meta:
        model = Post
        # The admin passes the fields of its fieldsets; these are the most it may show.
        fields = [
            "title", "slug", "body", "excerpt", "status", "published_at", "notify_subscribers",
            "author", "sticky", "categories", "tags", "featured_image", "featured_image_alt",
        ]  # fmt: skip

    # Set by PostAdmin.get_form for each request.
    action = EditorAction("save")
    may_publish = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.was_public = self.instance.pk is not None and self.instance.status != Post.Status.DRAFT
        self.needs_email_confirmation = None
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields[
                "slug"
            ].help_text = "The post's address. Leave empty to make one from the title."
        if "body" in self.fields:
            self.fields["body"].widget.attrs.update(
                {"rows": 24, "class": "vLargeTextField clarion-markdown", "spellcheck": "true"}
            )

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        problem = markdown.too_long(body or "")
        if problem:
            raise forms.ValidationError(problem, code="too_long")
        return body

    def clean_featured_image(self):
        return stripped(self.cleaned_data.get("featured_image"))

    def clean_image_upload(self):
        upload = self.cleaned_data.get("image_upload")
        if upload:
            images.check(upload)
        return upload

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if slug:
            return slug
        base = slugify(self.data.get("title", ""), allow_unicode=True)[:190].strip("-") or "post"
        others = Post.objects.exclude(pk=self.instance.pk)
        slug, n = base, 1
        while others.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def clean(self):
        cleaned = super().clean()
        now = timezone.now()
        action = self.action.name
        status = cleaned.get("status", self.instance.status)
        when = cleaned.get("published_at")
        if action == "draft" or (action == "preview" and not self.instance.is_live):
            status = Post.Status.DRAFT
        elif action == "schedule":
            status = Post.Status.SCHEDULED
            if when is None or when <= now:
                self.add_error(
                    "published_at", "To schedule the post, choose a date and time in the future."
                )
        elif action == "publish":
            status = Post.Status.PUBLISHED
            if when is None or when > now:
                cleaned["published_at"] = now
        cleaned["status"] = status
        if status != Post.Status.DRAFT and cleaned.get("published_at") is None:
            cleaned["published_at"] = now
        if status != Post.Status.DRAFT and not self.may_publish:
            raise ValidationError(
                "You can save this post as a draft; an editor or author publishes it.",
                code="may_not_publish",
            )
        if (
            status != Post.Status.DRAFT
            and not self.was_public
            and cleaned.get("notify_subscribers", self.instance.notify_subscribers)
            and not self.action.email_confirmed
            and not self.errors
        ):
            count = subscriber_count()
            if count:
                self.needs_email_confirmation = count
                verb = "Scheduling" if status == Post.Status.SCHEDULED else "Publishing"
                raise ValidationError(
                    f"{verb} this post will email {count} subscriber{'s' if count != 1 else ''}. "
                    "Confirm below, or untick “Email subscribers when published”.",
                    code="confirm_email",
                )
        return cleaned

    def save_new_names(self, post: Post, *, categories: bool, tags: bool) -> None:
        if categories:
            for name in split_names(self.cleaned_data.get("new_categories", "")):
                post.categories.add(get_or_create_named(Category, name))
        if tags:
            for name in split_names(self.cleaned_data.get("new_tags", "")):
                post.tags.add(get_or_create_named(Tag, name))
