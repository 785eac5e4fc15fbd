"""``python -m catalog_build``: build data/catalog from the shared listings and the curated files."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from catalog_build.build import DEFAULT_CURATED_DIR, DEFAULT_OUT_DIR, build_catalog, default_source
from catalog_build.common import BuildError


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build, validate, then write; nothing is written when any row is bad."""
    parser = argparse.ArgumentParser(prog="python -m catalog_build", description=__doc__)
    parser.add_argument("--source", type=Path, default=default_source(),
                        help="folder with the catalog listings (default: $DAOGOU_DATASETS/catalogs or ../shared/datasets/catalogs)")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where products.jsonl and aliases.yml go")
    parser.add_argument("--curated", type=Path, default=DEFAULT_CURATED_DIR, help="folder of curated <category>.yml files")
    args = parser.parse_args(argv)
    try:
        catalog = build_catalog(args.source, args.curated)
    except BuildError as exc:
        print(f"catalog not built: {exc}", file=sys.stderr)
        return 1
    catalog.write(args.out_dir)
    print(catalog.summary())
    print(f"wrote {args.out_dir / 'products.jsonl'} and {args.out_dir / 'aliases.yml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
