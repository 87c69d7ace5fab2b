from django.dispatch import Signal

# Sent inside the transaction that makes a post live for the first time (published in the
# admin, by `clarion publish`, or by the worker when a scheduled post falls due), after its
# categories are saved. Receivers get ``post`` and ``notify`` (False when the author chose
# "publish without emailing"). Irreversible work (email) must be deferred with
# transaction.on_commit and must be idempotent: the signal is sent once per post, but a
# receiver should not rely on that.
post_published = Signal()
