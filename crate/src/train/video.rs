//! Video frames for training, decoded by the system's `ffmpeg` (Debian's package): the
//! clips the research overfits to are ordinary video files. Also the LR video of a
//! content pack, encoded as H.264 in MP4 because that is what every browser plays.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::imaging::{MAX_SIDE, RgbaImage};

/// What ffmpeg may read: local files only (no network, no playlists reaching elsewhere)
/// through the demuxers of the extensions below. Given before every `-i`.
const INPUT_ONLY: [&str; 4] = ["-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi,yuv4mpegpipe"];

/// Decoded bytes (RGBA) one call may hold: 4 GiB, about a thousand 720p frames. More is
/// refused before ffmpeg runs, since its output is collected in memory.
pub const MAX_DECODED_BYTES: usize = 1 << 32;

/// File extensions treated as video.
pub const EXTENSIONS: [&str; 7] = ["mp4", "mkv", "webm", "mov", "avi", "y4m", "m4v"];

pub fn is_video(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn run(program: &str, args: &[&str], path: &Path) -> Result<Vec<u8>> {
    let out = Command::new(program).args(args).output().map_err(|e| missing_or(program, e))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Decode(format!("{}: {program} could not decode it: {}", path.display(), why.trim())));
    }
    Ok(out.stdout)
}

/// The path as ffmpeg's input, refused unless it is a regular file: a path from a pack's
/// manifest could name a device, a fifo or a URL.
fn input(path: &Path) -> Result<&str> {
    let file = path.to_str().ok_or_else(|| Error::Decode(format!("{}: the path is not UTF-8", path.display())))?;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err(Error::Decode(format!("{}: not a regular file", path.display()))),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// ffprobe's `-show_entries` of the first video stream of `file` (`path` as [`input`]
/// checked it), as CSV.
fn probe(path: &Path, file: &str, entries: &str) -> Result<String> {
    let mut args = vec!["-v", "error"];
    args.extend(INPUT_ONLY);
    args.extend(["-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", file]);
    Ok(String::from_utf8_lossy(&run("ffprobe", &args, path)?).trim().to_string())
}

/// Frames per second of the first video stream.
pub fn frame_rate(path: &Path) -> Result<f64> {
    let text = probe(path, input(path)?, "stream=r_frame_rate")?;
    let rate = match text.split_once('/') {
        Some((n, d)) => n.parse::<f64>().ok().zip(d.parse::<f64>().ok()).map(|(n, d)| n / d),
        None => text.parse().ok(),
    };
    rate.filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| Error::Decode(format!("{}: no frame rate (ffprobe said `{}`)", path.display(), text.trim())))
}

/// Every `every`-th frame of the video at `path`, at most `max` of them, as RGBA.
pub fn frames(path: &Path, every: usize, max: usize) -> Result<Vec<RgbaImage>> {
    let file = input(path)?;
    let probe = probe(path, file, "stream=width,height")?;
    let dims: Vec<usize> = probe.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    let [w, h] = dims[..] else {
        return Err(Error::Decode(format!("{}: no video stream (ffprobe said `{probe}`)", path.display())));
    };
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::Decode(format!("{}: {w}x{h} video is not supported", path.display())));
    }
    let max = max.max(1);
    if max.checked_mul(w * h * 4).is_none_or(|b| b > MAX_DECODED_BYTES) {
        return Err(Error::InvalidArgument(format!(
            "{}: {max} frames of {w}x{h} are more than {MAX_DECODED_BYTES} bytes decoded; ask for fewer",
            path.display()
        )));
    }
    let select = format!("select=not(mod(n\\,{}))", every.max(1));
    let count = max.to_string();
    let mut args = vec!["-v", "error"];
    args.extend(INPUT_ONLY);
    args.extend(["-i", file, "-vf", &select, "-fps_mode", "passthrough", "-frames:v", &count, "-f", "rawvideo", "-pix_fmt", "rgba", "-"]);
    let raw = run("ffmpeg", &args, path)?;
    let size = w * h * 4;
    if raw.is_empty() || raw.len() % size != 0 {
        return Err(Error::Decode(format!("{}: ffmpeg returned {} bytes, not whole {w}x{h} frames", path.display(), raw.len())));
    }
    raw.chunks_exact(size).map(|f| RgbaImage::new(w, h, f.to_vec())).collect()
}

/// How the LR video of a pack is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub fps: f64,
    /// x264's constant rate factor: 0 is lossless in luma, 18 visually lossless, 23 its default.
    pub crf: u8,
}

/// A file in the temporary folder, removed when dropped (the MP4 muxer needs a seekable
/// output, and the demuxer a seekable input, so pipes will not do).
struct TempFile(PathBuf);

impl TempFile {
    fn new(ext: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("ticketsr-{}-{n}.{ext}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// Encodes equally sized frames as H.264 (yuv420p, so browsers play it) in MP4.
pub fn encode(frames: &[RgbaImage], encoding: Encoding) -> Result<Vec<u8>> {
    let first = frames.first().ok_or_else(|| Error::InvalidArgument("no frames to encode".into()))?;
    let (w, h) = (first.width, first.height);
    if frames.iter().any(|f| (f.width, f.height) != (w, h)) || w % 2 == 1 || h % 2 == 1 {
        return Err(Error::InvalidArgument(format!("H.264 needs frames of one even size; the first is {w}x{h}")));
    }
    if !(encoding.fps.is_finite() && encoding.fps > 0.0) || encoding.crf > 51 {
        return Err(Error::InvalidArgument(format!("unusable encoding {encoding:?}")));
    }
    let out = TempFile::new("mp4");
    let (size, fps, crf) = (format!("{w}x{h}"), format!("{}", encoding.fps), encoding.crf.to_string());
    let target = out.0.to_str().ok_or_else(|| Error::InvalidArgument("the temporary folder's path is not UTF-8".into()))?;
    let args = [
        "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", &size, "-r", &fps, "-i", "-", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", "-crf", &crf, "-preset", "medium", "-movflags", "+faststart", target,
    ];
    let mut child = Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| missing_or("ffmpeg", e))?;
    let mut stdin = child.stdin.take().ok_or_else(|| Error::Backend("ffmpeg has no stdin".into()))?;
    let written = frames.iter().try_for_each(|f| stdin.write_all(&f.data));
    drop(stdin);
    let done = child.wait_with_output().map_err(|e| Error::io("running ffmpeg", e))?;
    if !done.status.success() || written.is_err() {
        return Err(Error::Decode(format!("ffmpeg could not encode the LR video: {}", String::from_utf8_lossy(&done.stderr).trim())));
    }
    std::fs::read(&out.0).map_err(|e| Error::io("reading the encoded video", e))
}

/// The first `max` frames of a video held in memory (a pack's LR video, whose manifest
/// says how many it has).
pub fn decode(bytes: &[u8], max: usize) -> Result<Vec<RgbaImage>> {
    let file = TempFile::new("mp4");
    std::fs::write(&file.0, bytes).map_err(|e| Error::io("writing a temporary video", e))?;
    frames(&file.0, 1, max)
}

fn missing_or(program: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Decode(format!("{program} is not installed; video needs it (Debian: apt install ffmpeg)"))
    } else {
        Error::io(format!("running {program}"), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_frames_and_refuses_what_is_not_video() {
        let dir = std::env::temp_dir().join(format!("ticketsr-video-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clip = dir.join("clip.y4m");
        // Six frames of a moving gradient, made by ffmpeg itself.
        let made = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=40x24:rate=10:duration=0.6", "-pix_fmt", "yuv420p"])
            .arg(&clip)
            .status()
            .expect("ffmpeg is installed by scripts/setup.sh");
        assert!(made.success());
        let all = frames(&clip, 1, 100).unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!((all[0].width, all[0].height), (40, 24));
        assert_ne!(all[0], all[5], "the test pattern moves");
        assert_eq!(frame_rate(&clip).unwrap(), 10.0);
        let some = frames(&clip, 2, 2).unwrap();
        assert_eq!(some.len(), 2);
        assert_eq!(some[1], all[2]);
        let fake = dir.join("fake.mp4");
        std::fs::write(&fake, b"not a video").unwrap();
        let err = frames(&fake, 1, 10).unwrap_err().to_string();
        assert!(err.contains("fake.mp4") && err.contains("could not decode"), "{err}");
        assert!(is_video(&fake) && !is_video(Path::new("a.png")));
        // Encoded and decoded again: same count and size, close to the original.
        let even: Vec<_> = all.iter().map(|f| f.crop(40, 24).unwrap()).collect();
        let mp4 = encode(&even, Encoding { fps: 10.0, crf: 10 }).unwrap();
        let back = decode(&mp4, 6).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(decode(&mp4, 4).unwrap().len(), 4);
        assert_eq!((back[3].width, back[3].height), (40, 24));
        assert!(crate::imaging::metrics::psnr_rgb(&back[3], &even[3], 0).unwrap() > 20.0);
        assert!(decode(b"not a video", 6).is_err());
        // Only regular files, only local ones, only the video demuxers, and no more decoded
        // bytes than the cap: a path from a pack is not trusted.
        assert!(frames(Path::new("/dev/zero"), 1, 1).unwrap_err().to_string().contains("not a regular file"));
        assert!(frames(&dir, 1, 1).unwrap_err().to_string().contains("not a regular file"));
        let playlist = dir.join("list.mp4");
        std::fs::write(&playlist, format!("ffconcat version 1.0\nfile '{}'\n", clip.display())).unwrap();
        assert!(frames(&playlist, 1, 1).unwrap_err().to_string().contains("could not decode"));
        let err = frames(&clip, 1, MAX_DECODED_BYTES / (40 * 24 * 4) + 1).unwrap_err().to_string();
        assert!(err.contains("more than 4294967296 bytes decoded"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
