import sys
from pathlib import Path

from storages.testing import configure_django

# Helper modules of these tests (memory_provider) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).parent))

configure_django()
