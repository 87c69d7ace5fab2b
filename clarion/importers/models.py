from django.db import models

from clarion.posts.models import Author, Category, Page, Post, Tag


class WordPressObject(models.Model):
    """What a WordPress record became in Clarion, so a second import updates, not duplicates.

    ``wp_id`` is WordPress's post or term ID (an author's login for authors). ``digest``
    fingerprints the values last written: an import whose values match it writes nothing.
    Deleting the Clarion object deletes this row, so a later import recreates the object.
    """

    class Kind(models.TextChoices):
        # Each label is its name in title case (Django's default): "Post", "Page", …
        POST = "post"
        PAGE = "page"
        ATTACHMENT = "attachment"
        CATEGORY = "category"
        TAG = "tag"
        AUTHOR = "author"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    wp_id = models.CharField("WordPress ID", max_length=200)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.CASCADE)
    file = models.CharField(max_length=500, blank=True, help_text="Storage name of a media file.")
    digest = models.CharField(max_length=64, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "WordPress object"
        constraints = [
            models.UniqueConstraint(fields=["kind", "wp_id"], name="wordpressobject_kind_wp_id")
        ]

    def __str__(self):
        return f"WordPress {self.kind} {self.wp_id}"
