"""Container images built on this machine: there is no registry to pull from.

An image is a static binary (and whatever files it needs) in an otherwise empty root
filesystem, made with umoci, turned into a docker-archive with skopeo, and later imported
into the node's containerd with ``ctr images import``. Each image gets EXACTLY the name the
manifests under test use, so that they stay the real ones.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .gobuild import BuildError, cache_root, locked, run_logged

# Debian's images are not needed: a passwd file naming the user is all a static binary needs.
PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
GROUP = "root:x:0:\nnonroot:x:65532:\n"


def image_archive(ref: str) -> Path:
    """Where the docker-archive of ``ref`` is cached."""
    safe = ref.replace("/", "_").replace(":", "_")
    return cache_root() / "images" / f"{safe}.tar"


def build_image(
    ref: str,
    files: dict,
    entrypoint: list,
    user: str = "65532:65532",
    env: tuple = (),
    workdir: str = "/",
) -> Path:
    """Build the image ``ref`` (``name:tag``) holding ``files`` ({path in image: local file}).

    Rebuilt only when the files or the settings change (their digest is kept beside the
    archive). Returns the docker-archive to import.
    """
    archive = image_archive(ref)
    digest = hashlib.sha256()
    for inside, source in sorted(files.items()):
        digest.update(inside.encode())
        digest.update(hashlib.sha256(Path(source).read_bytes()).digest())
    digest.update(json.dumps([ref, entrypoint, user, list(env), workdir]).encode())
    stamp = archive.with_suffix(".sha256")
    if archive.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return archive
    with locked(archive.with_suffix(".lock")):
        if archive.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
            return archive
        work = archive.with_suffix(".work")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        logfile = work.parent / (archive.stem + ".log")
        logfile.unlink(missing_ok=True)
        layout, bundle = work / "oci", work / "bundle"
        name, tag = ref.rsplit(":", 1) if ":" in ref.rsplit("/", 1)[-1] else (ref, "latest")
        step = f"image {ref}"
        run_logged(step + ": init", ["umoci", "init", "--layout", layout], logfile)
        run_logged(step + ": new", ["umoci", "new", "--image", f"{layout}:{tag}"], logfile)
        run_logged(step + ": unpack", ["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", bundle], logfile)
        rootfs = bundle / "rootfs"
        (rootfs / "etc").mkdir(parents=True, exist_ok=True)
        (rootfs / "etc" / "passwd").write_text(PASSWD)
        (rootfs / "etc" / "group").write_text(GROUP)
        (rootfs / "tmp").mkdir(mode=0o1777, exist_ok=True)
        (rootfs / "tmp").chmod(0o1777)
        for inside, source in files.items():
            target = rootfs / inside.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        run_logged(step + ": repack", ["umoci", "repack", "--image", f"{layout}:{tag}", bundle], logfile)
        config = [
            "umoci",
            "config",
            "--image",
            f"{layout}:{tag}",
            "--config.user",
            user,
            "--config.workingdir",
            workdir,
        ]
        for part in entrypoint:
            config += ["--config.entrypoint", part]
        for item in env:
            config += ["--config.env", item]
        config += ["--clear=config.cmd"]
        run_logged(step + ": config", config, logfile)
        archive.unlink(missing_ok=True)
        run_logged(
            step + ": archive",
            ["skopeo", "copy", "--quiet", f"oci:{layout}:{tag}", f"docker-archive:{archive}:{name}:{tag}"],
            logfile,
        )
        if not archive.exists():
            raise BuildError(f"skopeo wrote no {archive}")
        stamp.write_text(digest.hexdigest())
        shutil.rmtree(work, ignore_errors=True)
    return archive
