"""Build hook shared by every Chanx package (``packages/*/hatch_build.py`` link to this file).

The workspace has one version, in ``VERSION`` at the repository root. This hook gives it to
the package and pins each ``chanx-*`` dependency listed without a version to exactly that
version, so the packages are always released and installed in lockstep. A wheel built from
an sdist takes both from the sdist's ``PKG-INFO`` instead, and this hook does not run
(hatchling still loads it, so each sdist ships it: the build copies the linked file in).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

_UNPINNED_CHANX = re.compile(r"chanx-[a-z]+(\[[a-z,]+\])?")


class ChanxVersionHook(MetadataHookInterface):
    """Sets ``version``, ``dependencies`` and, if configured, ``optional-dependencies``."""

    def update(self, metadata: dict[str, Any]) -> None:
        """Fill in the version and the dependencies, chanx-* pinned to the version."""
        version_file = Path(self.root).resolve().parents[1] / "VERSION"
        version = version_file.read_text(encoding="utf-8").strip()
        metadata["version"] = version

        def pin(requirements: list[str]) -> list[str]:
            return [f"{r}=={version}" if _UNPINNED_CHANX.fullmatch(r) else r for r in requirements]

        metadata["dependencies"] = pin(self.config.get("dependencies", []))
        if "optional-dependencies" in self.config:
            extras = self.config["optional-dependencies"]
            metadata["optional-dependencies"] = {name: pin(reqs) for name, reqs in extras.items()}
