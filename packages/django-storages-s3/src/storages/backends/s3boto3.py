"""The 1.x import paths: ``storages.backends.s3boto3.S3Boto3Storage`` and friends.

Kept so that settings written for django-storages keep working; new code can import from
:mod:`storages.backends.s3`.
"""

from __future__ import annotations

from storages.backends.s3 import S3File, S3ManifestStaticStorage, S3StaticStorage, S3Storage

S3Boto3Storage = S3Storage
S3Boto3StorageFile = S3File

__all__ = ["S3Boto3Storage", "S3Boto3StorageFile", "S3ManifestStaticStorage", "S3StaticStorage"]
