//! Choosing where tensors live: burn's wgpu backend (WebGPU in the browser, Vulkan natively,
//! lavapipe included) or its pure-Rust CPU backend, Flex. Whatever runs is always reported,
//! with the adapter's name, because a silent fallback is the most common complaint about
//! browser upscalers.

use std::str::FromStr;
use std::sync::Mutex;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The GPU when an adapter exists, else the CPU.
    #[default]
    Auto,
    #[serde(alias = "webgpu", alias = "wgpu", alias = "vulkan")]
    Gpu,
    Cpu,
}

impl FromStr for BackendChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "gpu" | "webgpu" | "wgpu" | "vulkan" => Ok(Self::Gpu),
            "cpu" => Ok(Self::Cpu),
            other => Err(Error::InvalidArgument(format!("backend `{other}` is not one of auto, gpu, cpu"))),
        }
    }
}

/// What actually runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum BackendKind {
    /// burn's wgpu backend on the browser's WebGPU.
    WebGpu,
    /// burn's wgpu backend on native Vulkan.
    Vulkan,
    /// burn's Flex CPU backend.
    Cpu,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(rename_all(serialize = "camelCase")))]
pub struct BackendInfo {
    pub kind: BackendKind,
    /// The adapter's name as the driver reports it (for example "SwiftShader Device").
    pub adapter: String,
    /// The largest buffer one tensor may occupy; tiling keeps every tensor below it.
    pub max_tensor_bytes: u64,
    /// Why the GPU was not used, when the user asked for `auto` and got the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub device: Device,
    pub info: BackendInfo,
    /// burn's wgpu instance, adapter, device and queue on a GPU backend: shaders of our
    /// own (video frames that stay on the GPU) run on the same device.
    pub wgpu: Option<burn::tensor::wgpu::WgpuSetup>,
}

/// Memory a CPU tensor may take: keeps tiles small enough for a browser tab.
const CPU_MAX_TENSOR_BYTES: u64 = 64 << 20;
/// Even where the adapter allows more, a tile's tensors stay below this, so one tile
/// never claims most of a shared GPU.
const GPU_MAX_TENSOR_BYTES: u64 = 256 << 20;

/// burn's wgpu runtime can be initialised once per process; every later request reuses it.
/// Two first requests at once (a page's own upscaler and a `<ticket-sr>` element, say)
/// must not both initialise it: the second would fail and fall back to the CPU.
enum GpuState {
    Idle,
    Starting,
    Ready(Backend),
}

static GPU: Mutex<GpuState> = Mutex::new(GpuState::Idle);

impl Backend {
    pub fn cpu() -> Self {
        Backend {
            device: Device::flex(),
            info: BackendInfo {
                kind: BackendKind::Cpu,
                adapter: "Flex (pure-Rust CPU)".into(),
                max_tensor_bytes: CPU_MAX_TENSOR_BYTES,
                fallback_reason: None,
            },
            wgpu: None,
        }
    }

    /// Acquires a backend. Asynchronous because the browser hands out GPUs asynchronously.
    pub async fn acquire(choice: BackendChoice) -> Result<Self> {
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu()),
            BackendChoice::Gpu => Self::gpu().await,
            BackendChoice::Auto => match Self::gpu().await {
                Ok(b) => Ok(b),
                Err(e) => {
                    let mut cpu = Self::cpu();
                    cpu.info.fallback_reason = Some(e.to_string());
                    Ok(cpu)
                }
            },
        }
    }

    pub async fn gpu() -> Result<Self> {
        crate::platform::static_constructors();
        let state = || GPU.lock().map_err(|_| Error::Backend("GPU state poisoned".into()));
        loop {
            // The lock ends with this block: another request's start must be able to take it
            // while this one waits.
            let starting_elsewhere = {
                let mut s = state()?;
                match &*s {
                    GpuState::Ready(b) => return Ok(b.clone()),
                    GpuState::Starting => true,
                    GpuState::Idle => {
                        *s = GpuState::Starting;
                        false
                    }
                }
            };
            if !starting_elsewhere {
                break;
            }
            crate::platform::yield_now().await;
        }
        let started = init_gpu().await;
        *state()? = match &started {
            Ok(b) => GpuState::Ready(b.clone()),
            Err(_) => GpuState::Idle,
        };
        started
    }
}

async fn init_gpu() -> Result<Backend> {
    use burn::tensor::wgpu::WgpuBackend;
    #[cfg(target_arch = "wasm32")]
    let (api, kind) = {
        crate::platform::require_webgpu().await?;
        (WgpuBackend::WebGpu, BackendKind::WebGpu)
    };
    // Pinned: an unpinned native device silently lands on another API when Vulkan is missing.
    #[cfg(not(target_arch = "wasm32"))]
    let (api, kind) = (WgpuBackend::Vulkan, BackendKind::Vulkan);
    let (device, setup) = Device::wgpu_options()
        .graphics_api(api)
        .init_with_setup_async()
        .await
        .map_err(|e| Error::Backend(format!("no usable GPU adapter: {e}")))?;
    let adapter = setup.adapter.get_info();
    let limits = setup.device.limits();
    let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    let name = if adapter.name.is_empty() { format!("{:?} adapter", adapter.backend) } else { adapter.name.clone() };
    Ok(Backend {
        device,
        info: BackendInfo { kind, adapter: name, max_tensor_bytes: max.min(GPU_MAX_TENSOR_BYTES), fallback_reason: None },
        wgpu: Some(setup),
    })
}
