#!/bin/sh
# native-libs.sh DEST PACKAGE...
#
# Collects, from installed Debian packages, the shared libraries the imgsvc
# image carries, as a root filesystem tree under DEST:
#
#   - every lib*.so.N that the PACKAGEs ship (the libraries a program
#     dlopens), plus an unversioned link to each (libwebp.so -> libwebp.so.7:
#     github.com/gen2brain/webp opens the unversioned names, which Debian only
#     ships in the -dev packages);
#   - what a CGO_ENABLED=0 binary using purego needs (readelf -d: libc.so.6,
#     libdl.so.2, libpthread.so.0) and the dynamic loader;
#   - the dependency closure of all of these, as ldd resolves it.
#
# Each library is copied (not linked) into the directory its real file is in,
# under its soname. DEST/usr/share/imgsvc/native-libs lists the names to
# dlopen (read by dlprobe), with the packages, the loader and the library
# directories in '#' lines; DEST/var/lib/dpkg/status.d/<package> holds the
# dpkg status of every package a copied file comes from, the layout image
# scanners read on distroless images.
#
# Runs on Debian (dpkg-query, ldd): in the Dockerfile's build stage after
# apt-get install, or on the host for scripts/docker-build.sh --offline.
set -eu

# A purego binary's DT_NEEDED (its interpreter comes along with libc.so.6).
GLIBC_NEEDED="libc.so.6 libdl.so.2 libpthread.so.0"
MANIFEST=usr/share/imgsvc/native-libs

die() { echo "native-libs: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: native-libs.sh DEST PACKAGE..."
DEST=$1
shift
command -v dpkg-query >/dev/null || die "dpkg-query not found (this runs on Debian)"
command -v ldd >/dev/null || die "ldd not found"
if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST")" ]; then
  die "$DEST is not empty"
fi
mkdir -p "$DEST"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/top"
: >"$work/roots"

# The libraries the packages ship: lib*.so.N directly in a library directory.
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=
  [ "$status" = installed ] || die "package $pkg is not installed (apt-get install $pkg)"
  dpkg-query -L "$pkg" |
    grep -E '^(/usr)?/lib(32|64|x32)?(/[^/]+-linux-[^/]+)?/lib[^/]*\.so\.[0-9]+$' >"$work/pkg" || true
  [ -s "$work/pkg" ] || die "package $pkg ships no lib*.so.N"
  cat "$work/pkg" >>"$work/top"
done
cat "$work/top" >"$work/roots"
for name in $GLIBC_NEEDED; do
  path=$(dpkg-query -L libc6 | grep -E "/lib(64)?(/[^/]+-linux-[^/]+)?/$name\$" | head -n 1) || true
  [ -n "$path" ] || die "libc6 has no $name"
  echo "$path" >>"$work/roots"
done

# The closure: each root's own ldd answer is already transitive.
# Lines of "soname path", and "INTERP path" for the loader.
: >"$work/deps"
for lib in $(sort -u "$work/roots"); do
  ldd "$lib" >"$work/ldd" 2>&1 || die "ldd $lib failed: $(cat "$work/ldd")"
  if grep -q 'not found' "$work/ldd"; then
    die "ldd $lib: $(grep 'not found' "$work/ldd" | tr -s ' \t' ' ')"
  fi
  echo "$(basename "$lib") $lib" >>"$work/deps"
  awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }
       $1 ~ /^\// && $2 ~ /^\(0x/ { print "INTERP", $1 }' "$work/ldd" >>"$work/deps"
done
sort -u "$work/deps" -o "$work/deps"

owner() { # owner PATH REALPATH: the package that ships the file
  for p in "$1" "$2" "/usr$1" "${1#/usr}"; do
    o=$(dpkg-query -S "$p" 2>/dev/null | grep -v '^diversion' | head -n 1 | sed 's/: .*//') || true
    if [ -n "$o" ]; then echo "$o"; return; fi
  done
  die "no package ships $1 ($2)"
}

: >"$work/dirs"
: >"$work/pkgs"
loader=
while read -r name path; do
  real=$(readlink -f "$path")
  if [ "$name" = INTERP ]; then
    # The path binaries name as their interpreter (PT_INTERP), as is.
    [ -z "$loader" ] || [ "$loader" = "$path" ] || die "two loaders: $loader and $path"
    loader=$path
    dst=$DEST$path
  else
    dir=$(dirname "$real")
    echo "$dir" >>"$work/dirs"
    dst=$DEST$dir/$name
  fi
  mkdir -p "$(dirname "$dst")"
  cp "$real" "$dst"
  chmod 0644 "$dst"
  [ "$name" != INTERP ] || chmod 0755 "$dst"
  owner "$path" "$real" >>"$work/pkgs"
done <"$work/deps"
[ -n "$loader" ] || die "ldd named no dynamic loader"

# Unversioned names for the libraries the packages ship.
for lib in $(sort -u "$work/top"); do
  name=$(basename "$lib")
  dir=$(dirname "$(readlink -f "$lib")")
  ln -sf "$name" "$DEST$dir/${name%.so.*}.so"
done

mkdir -p "$DEST/var/lib/dpkg/status.d" "$DEST/$(dirname "$MANIFEST")"
for pkg in $(sort -u "$work/pkgs"); do
  dpkg-query -s "$pkg" >"$DEST/var/lib/dpkg/status.d/${pkg%%:*}"
done

{
  echo "# Native libraries of the imgsvc image (scripts/dlprobe/native-libs.sh)."
  echo "# packages: $*"
  echo "# debian: $(cat /etc/debian_version 2>/dev/null || echo unknown)"
  echo "# loader: $loader"
  echo "# libdirs: $(sort -u "$work/dirs" | paste -sd: -)"
  echo "# Names a program dlopens; dlprobe opens each."
  for lib in $(sort -u "$work/top"); do
    name=$(basename "$lib")
    echo "${name%.so.*}.so"
    echo "$name"
  done
} >"$DEST/$MANIFEST"

echo "native-libs: $(wc -l <"$work/deps") files from $(sort -u "$work/pkgs" | wc -l) packages, $(du -sh "$DEST" | cut -f1), into $DEST:"
for pkg in $(sort -u "$work/pkgs"); do
  printf '  %-22s %s\n' "${pkg%%:*}" "$(dpkg-query -W -f='${Version}' "$pkg")"
done
