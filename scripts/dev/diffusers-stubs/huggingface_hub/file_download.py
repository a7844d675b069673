"""huggingface_hub.file_download (offline stand-in)."""
import re

REGEX_COMMIT_HASH = re.compile(r'^[0-9a-f]{40}$')
