"""A blog post as in Wagtail's tutorial: title, date, author, categories, rich-text body."""

from django import forms
from django.db import models
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet


@register_snippet
class BlogCategory(models.Model):
    name = models.CharField(max_length=255)
    slug = models.SlugField(unique=True)

    class Meta:
        verbose_name_plural = "blog categories"

    def __str__(self):
        return self.name


class BlogPage(Page):
    date = models.DateField("Post date")
    author = models.CharField(max_length=255, blank=True)
    body = RichTextField(blank=True)
    categories = ParentalManyToManyField("blog.BlogCategory", blank=True)

    search_fields = Page.search_fields + [index.SearchField("body")]
    content_panels = Page.content_panels + [
        FieldPanel("date"),
        FieldPanel("author"),
        FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
        FieldPanel("body"),
    ]
