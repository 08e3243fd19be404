#!/usr/bin/env bash
# Builds ARX's library from its source with javac, and benches/arx/ArxAdult.java
# against it, into the ARX_BENCH layout benches/anonymize.sh runs:
#
#   benches/arx/build.sh ARX_SOURCE [ARX_BENCH]
#
# ARX_SOURCE: a checkout of github.com/arx-deidentifier/arx (a work tree), or
# its bare git directory (the files are read from HEAD with git cat-file).
# ARX_BENCH (default /tmp/arx-bench) receives classes/ (ARX's classes, its
# resources and ArxAdult.class) and lib/ (every jar on the class path, flat,
# as java's "lib/*" wants them). Nothing is written in this repository.
# Needs javac (17 was used), git, and apt-get to download (not install)
# Debian's PDFBox 2 (see benches/arx/README.md for why each step is there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: benches/arx/build.sh ARX_SOURCE [ARX_BENCH]}
out=${2:-/tmp/arx-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. ARX's library sources (src/main: no GUI, examples or tests) and the jars
#    its repository ships in lib/ant (without the GUI's Eclipse/SWT jars and
#    JUnit).
mkdir -p "$work/arx"
if [ -d "$src/src/main" ]; then
    mkdir -p "$work/arx/src" "$work/arx/lib"
    cp -r "$src/src/main" "$work/arx/src/"
    cp -r "$src/lib/ant" "$work/arx/lib/"
else
    git --git-dir="$src" ls-tree -r HEAD src/main lib/ant | grep -v -e /eclipse/ -e /swt -e /junit/ |
        while read -r _mode _type sha path; do
            mkdir -p "$work/arx/$(dirname "$path")"
            git --git-dir="$src" cat-file blob "$sha" > "$work/arx/$path" 2>/dev/null ||
                { echo "absent from the snapshot: $path" >&2; rm -f "$work/arx/$path"; }
        done
fi

# 2. PDFBox: the jar ARX ships (lib/ant/pdfbox/pdfbox-app-2.0.1.jar) is
#    needed to compile its certificate classes, which 60 classes of the
#    library reference (ElementData); Debian's PDFBox 2 has the same API.
mkdir -p "$work/deb"
(cd "$work/deb" && apt-get download libpdfbox2-java libfontbox2-java libcommons-logging-java >/dev/null)
for d in "$work"/deb/*.deb; do dpkg -x "$d" "$work/deb/x"; done

# 3. hadoop-core-1.2.1.jar may be absent (the snapshot this was first built
#    from does not store it). Mahout's OnlineLogisticRegression, which ARX's
#    logistic-regression classifier (aggregates/classification) calls,
#    implements Hadoop's org.apache.hadoop.io.Writable, so javac needs that
#    interface. When the jar is missing a declaration of the interface (its
#    two methods, written here) is compiled instead; the anonymization code
#    never loads it.
if [ ! -s "$work/arx/lib/ant/mahout/hadoop-core-1.2.1.jar" ]; then
    mkdir -p "$work/hadoop/org/apache/hadoop/io"
    cat > "$work/hadoop/org/apache/hadoop/io/Writable.java" <<'EOF'
package org.apache.hadoop.io;

/** Compile-time declaration of Hadoop's interface of this name (benches/arx/build.sh). */
public interface Writable {
    void write(java.io.DataOutput out) throws java.io.IOException;
    void readFields(java.io.DataInput in) throws java.io.IOException;
}
EOF
fi

# 4. Lay out ARX_BENCH and compile.
rm -rf "$out/classes" "$out/lib"
mkdir -p "$out/classes" "$out/lib"
find "$work/arx/lib/ant" -name '*.jar' ! -path '*/eclipse/*' ! -path '*/swt*' ! -path '*/junit/*' \
    -exec cp {} "$out/lib/" \;
cp "$work"/deb/x/usr/share/java/{pdfbox2,fontbox2,commons-logging-1.2}.jar "$out/lib/"
find "$work/arx/src/main" -name '*.java' > "$work/sources.txt"
[ -d "$work/hadoop" ] && find "$work/hadoop" -name '*.java' >> "$work/sources.txt"
javac -nowarn -encoding UTF-8 -d "$out/classes" -cp "$out/lib/*" @"$work/sources.txt" 2> "$work/javac.log" ||
    { cat "$work/javac.log" >&2; echo "javac failed on ARX's sources" >&2; exit 1; }
(cd "$work/arx/src/main" && find . -type f ! -name '*.java' -exec cp --parents {} "$out/classes/" \;)
javac -encoding UTF-8 -d "$out/classes" -cp "$out/classes:$out/lib/*" "$here/ArxAdult.java"
echo "ARX_BENCH=$out ($(find "$out/classes" -name '*.class' | wc -l) classes, $(ls "$out/lib" | wc -l) jars)"
