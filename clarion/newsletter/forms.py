from django import forms

from clarion.posts.models import Category

# The exact words each subscribe form shows, kept in each consent record. The sidebar's
# template (theme/subscribe_form.html) prints SIDEBAR_WORDING; a test keeps them equal.
SIDEBAR_WORDING = (
    "Enter your email address to subscribe to this blog and receive notifications of new "
    "posts by email."
)
PAGE_WORDING = (
    SIDEBAR_WORDING + " Choose categories to get only their posts, or none to get every post."
)
WORDINGS = {"sidebar": SIDEBAR_WORDING, "page": PAGE_WORDING}


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every post.",
    )
    form = forms.ChoiceField(
        choices=[(k, k) for k in WORDINGS], required=False, widget=forms.HiddenInput
    )
    page = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def wording(self) -> str:
        return WORDINGS.get(self.cleaned_data.get("form") or "page", PAGE_WORDING)


class CategoriesForm(forms.Form):
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Email me posts in these categories",
        help_text="None chosen: every post.",
    )
