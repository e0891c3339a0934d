#!/usr/bin/env bash
# Every check CI runs, in order; the pytest summary is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg PYTHONHASHSEED=0 SNIASCORE_REQUIRE_DATA=1  # CI has the shared data: a missing folder fails, not skips

echo "== notebooks clean (nbdev_clean leaves them unchanged)"
nbdev_clean
git diff --exit-code --stat -- nbs || { echo "notebooks are not clean: run nbdev_clean and commit"; exit 1; }

echo "== modules in sync with notebooks (nbdev_export leaves sniascore/ unchanged)"
nbdev_export
if [ -n "$(git status --porcelain -- sniascore)" ]; then
  git status --porcelain -- sniascore; echo "sniascore/ is out of sync with nbs/: run nbdev_export and commit"; exit 1
fi
python scripts/make_readme.py --check
python scripts/contributing_map.py --check
python scripts/runs_log.py --check
python scripts/house_figures.py   # reports module and cell sizes (issue 17 limits); does not fail

echo "== docs site (nbdev's processed notebooks to _docs/, offline; the browser test below opens it)"
python scripts/build_docs.py

echo "== Chromium for the browser test of the docs site"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then   # CI: root on a fresh Debian machine
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
  else
    echo "chromium/chromedriver missing and not root: tests/test_docs_site.py will skip its browser checks"
  fi
fi
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  chromium --version; export SNIASCORE_REQUIRE_BROWSER=1   # from here on a browser that will not start is a failure
fi

echo "== nbdev_test: every notebook, top to bottom"
nbdev_test --n_workers 2 --timing

echo "== pytest"
python -m pytest tests -q -p no:cacheprovider
