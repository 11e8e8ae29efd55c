//! Video frames for training, decoded by the system's `ffmpeg` (Debian's package): the
//! clips the research overfits to are ordinary video files.

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};
use crate::imaging::{MAX_SIDE, RgbaImage};

/// File extensions treated as video.
pub const EXTENSIONS: [&str; 7] = ["mp4", "mkv", "webm", "mov", "avi", "y4m", "m4v"];

pub fn is_video(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn run(program: &str, args: &[&str], path: &Path) -> Result<Vec<u8>> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Decode(format!("{program} is not installed; video needs it (Debian: apt install ffmpeg)"))
        } else {
            Error::io(format!("running {program}"), e)
        }
    })?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Decode(format!("{}: {program} could not decode it: {}", path.display(), why.trim())));
    }
    Ok(out.stdout)
}

/// Every `every`-th frame of the video at `path`, at most `max` of them, as RGBA.
pub fn frames(path: &Path, every: usize, max: usize) -> Result<Vec<RgbaImage>> {
    let file = path.to_str().ok_or_else(|| Error::Decode(format!("{}: the path is not UTF-8", path.display())))?;
    let probe = run("ffprobe", &["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", file], path)?;
    let probe = String::from_utf8_lossy(&probe);
    let dims: Vec<usize> = probe.trim().split(',').filter_map(|v| v.trim().parse().ok()).collect();
    let [w, h] = dims[..] else {
        return Err(Error::Decode(format!("{}: no video stream (ffprobe said `{}`)", path.display(), probe.trim())));
    };
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::Decode(format!("{}: {w}x{h} video is not supported", path.display())));
    }
    let select = format!("select=not(mod(n\\,{}))", every.max(1));
    let count = max.max(1).to_string();
    let raw = run("ffmpeg", &["-v", "error", "-i", file, "-vf", &select, "-fps_mode", "passthrough", "-frames:v", &count, "-f", "rawvideo", "-pix_fmt", "rgba", "-"], path)?;
    let size = w * h * 4;
    if raw.is_empty() || raw.len() % size != 0 {
        return Err(Error::Decode(format!("{}: ffmpeg returned {} bytes, not whole {w}x{h} frames", path.display(), raw.len())));
    }
    raw.chunks_exact(size).map(|f| RgbaImage::new(w, h, f.to_vec())).collect()
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
        let some = frames(&clip, 2, 2).unwrap();
        assert_eq!(some.len(), 2);
        assert_eq!(some[1], all[2]);
        let fake = dir.join("fake.mp4");
        std::fs::write(&fake, b"not a video").unwrap();
        let err = frames(&fake, 1, 10).unwrap_err().to_string();
        assert!(err.contains("fake.mp4") && err.contains("could not decode"), "{err}");
        assert!(is_video(&fake) && !is_video(Path::new("a.png")));
        std::fs::remove_dir_all(&dir).ok();
    }
}
