#!/usr/bin/env bash
# Fetches the extra training data of the learned patch scorer (web/models/README.md), which
# only retraining it needs, so scripts/setup.sh (demo and tests) does not pay for it:
# OpenCV's sample photos and clips from Debian's opencv-doc package (95 MB; the samples'
# licence is OpenCV's, see usr/share/doc/opencv-doc/copyright inside it).
#
#   .media/scorer-photos-opencv  36 photos: no stereo or time twin of another (aloeR,
#                                graf3, ...), no binary mask, logo or synthetic chart
#   .media/scorer-clips          vtest.avi (street), Megamind.avi (animation), tree.avi
#
# None of them is one of the photos the winning-ticket tables measure (.media/photos).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh

VERSION=4.6.0+dfsg-12
if [ -f .media/scorer-photos-opencv/baboon.jpg ] && [ -f .media/scorer-clips/vtest.avi ]; then
  exit 0
fi
DEB="$TICKETSR_CACHE/debs/opencv-doc_${VERSION}_all.deb"
if [ ! -f "$DEB" ]; then
  mkdir -p "$TICKETSR_CACHE/debs"
  (cd "$TICKETSR_CACHE/debs" && apt-get download "opencv-doc=$VERSION")
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
dpkg-deb -x "$DEB" "$TMP"
E="$TMP/usr/share/doc/opencv-doc/examples"
mkdir -p .media/scorer-photos-opencv .media/scorer-clips
for f in aero1.jpg aero3.jpg aloeL.jpg apple.jpg baboon.jpg basketball1.png board.jpg building.jpg butterfly.jpg \
  chicky_512.png ela_original.jpg fruits.jpg graf1.png home.jpg left01.jpg left07.jpg leuvenA.jpg \
  licenseplate_motion.jpg messi5.jpg orange.jpg pca_test1.jpg squirrel_cls.jpg starry_night.jpg stuff.jpg \
  rubberwhale1.png smarties.png box_in_scene.png gradient.png Blender_Suzanne1.jpg HappyFish.jpg cards.png \
  sudoku.png text_defocus.jpg; do
  cp "$E/data/$f" .media/scorer-photos-opencv/
done
cp "$E/alphamat/input_images/plant.jpg" .media/scorer-photos-opencv/plant.jpg
cp "$E/fuzzy/input.png" .media/scorer-photos-opencv/fuzzy.png
cp "$E/dnn_superres/butterfly.png" .media/scorer-photos-opencv/butterfly_set5.png
cp "$E/data/vtest.avi" "$E/data/Megamind.avi" "$E/data/tree.avi" .media/scorer-clips/
cp "$TMP/usr/share/doc/opencv-doc/copyright" .media/scorer-photos-opencv/COPYRIGHT
echo "scorer-data: $(ls .media/scorer-photos-opencv | wc -l) files in .media/scorer-photos-opencv, $(ls .media/scorer-clips | wc -l) clips in .media/scorer-clips"
