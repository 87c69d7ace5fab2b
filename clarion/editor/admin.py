from django import forms
from django.contrib import admin
from django.urls import path
from django.utils.html import format_html

from . import (
    images,
    permissions,
    posts_admin,  # noqa: F401 - registers the posts app's models with the admin
    views,
)
from .models import LoginFailure, MediaItem


class MediaUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label="Image",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
        help_text="JPEG, PNG, WebP or GIF. Location and camera data are removed.",
    )

    class Meta:
        model = MediaItem
        fields = ["alt_text"]

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        images.check(upload)
        return upload


@admin.register(MediaItem)
class MediaItemAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "__str__", "dimensions", "uploaded_by", "created_at"]
    search_fields = ["alt_text", "original_name"]
    readonly_fields = ["thumbnail", "markdown_snippet", "dimensions", "sizes", "original_name"]
    fields = ["thumbnail", "alt_text", "markdown_snippet", "dimensions", "sizes", "original_name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MediaUploadForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["upload", "alt_text"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _mine_or_editor(self, request, obj):
        return (
            obj is None
            or permissions.can_edit_any(request.user)
            or obj.uploaded_by_id == request.user.pk
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._mine_or_editor(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._mine_or_editor(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            images.store(
                form.cleaned_data["upload"],
                user=request.user,
                alt=form.cleaned_data.get("alt_text", ""),
                item=obj,
            )

    def get_urls(self):
        upload = self.admin_site.admin_view(views.upload_image)
        return [path("upload/", upload, name="editor_mediaitem_upload"), *super().get_urls()]

    @admin.display(description="Image")
    def thumbnail(self, obj):
        if not obj or not obj.pk:
            return ""
        name = obj.renditions[0][1] if obj.renditions else obj.file.name
        return format_html(
            '<img src="{}" alt="{}" class="clarion-thumb" width="120">',
            obj.file.storage.url(name),
            obj.alt_text,
        )

    @admin.display(description="Markdown")
    def markdown_snippet(self, obj):
        return format_html(
            '<input type="text" readonly value="{}" class="vLargeTextField" '
            'aria-label="Markdown for this image">'
            '<div class="help">Copy this into a post.</div>',
            obj.markdown(),
        )

    @admin.display(description="Size")
    def dimensions(self, obj):
        return f"{obj.width} × {obj.height} px, {images.human_size(obj.size_bytes)}"

    @admin.display(description="Resized copies")
    def sizes(self, obj):
        return ", ".join(f"{w} px" for w, _ in obj.renditions) or "none (GIFs are kept as they are)"


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins; deleting an account's rows lifts its throttle at once."""

    list_display = ["username", "address", "created_at"]
    search_fields = ["username", "address"]
    list_filter = ["created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
