"""Storage for files that must never have a public address (KYC proofs)."""

from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files on disk under PRIVATE_MEDIA_ROOT, owner-readable only, with no URL:
    a view that checks the viewer streams them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a view that checks the viewer.")
