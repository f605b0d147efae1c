#!/usr/bin/env bash
# Make sure Fashion-MNIST is on disk: the Debian package first, else torchvision's download.
set -euo pipefail
DEB_DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DEB_DIR/train-images-idx3-ubyte.gz" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Fashion-MNIST from the Debian package dataset-fashion-mnist ..."
  if (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
      && [ -f "$DEB_DIR/train-images-idx3-ubyte.gz" ]; then
    exit 0
  fi
fi
echo "Debian package unavailable; downloading Fashion-MNIST with torchvision into data/ ..."
PY=${PY:-.venv/bin/python}
"$PY" -c "import torchvision; torchvision.datasets.FashionMNIST('data', train=True, download=True); torchvision.datasets.FashionMNIST('data', train=False, download=True)"
