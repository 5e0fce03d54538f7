//! The compute device of a command, chosen at run time: burn's flex backend on the CPU, or
//! wgpu on a GPU (Vulkan, Metal or DirectX; Mesa's lavapipe runs it without one).

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::DeviceKind;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Where tensors live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (flex), on every core.
    #[default]
    Cpu,
    /// burn's wgpu backend on the best adapter wgpu finds.
    Wgpu,
}

impl Backend {
    /// The device to run on.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            Backend::Wgpu => wgpu(DeviceKind::DefaultDevice),
        }
    }

    /// `count` devices for data-parallel training: the first `count` discrete GPUs (the
    /// default adapter when `count` is one). The CPU is one device.
    pub fn devices(self, count: usize) -> Result<Vec<Device>> {
        match (self, count) {
            (_, 0) => bail!("at least one device is needed"),
            (_, 1) => Ok(vec![self.device()?]),
            (Backend::Cpu, _) => bail!("data-parallel training needs --device wgpu"),
            (Backend::Wgpu, n) => (0..n).map(|i| wgpu(DeviceKind::DiscreteGpu(i))).collect(),
        }
    }
}

/// A wgpu device, set up once per process and adapter (burn refuses a second set-up).
fn wgpu(kind: DeviceKind) -> Result<Device> {
    static READY: OnceLock<Mutex<HashMap<DeviceKind, Device>>> = OnceLock::new();
    let mut ready = READY
        .get_or_init(Default::default)
        .lock()
        .expect("device table");
    if let Some(d) = ready.get(&kind) {
        return Ok(d.clone());
    }
    let device = Device::wgpu_options()
        .device_kind(kind.clone())
        .init()
        .map_err(|e| {
            anyhow::anyhow!(
                "no wgpu device ({kind:?}): {e}; without a GPU, Mesa's lavapipe \
                 (Debian: mesa-vulkan-drivers) provides one on the CPU"
            )
        })?;
    ready.insert(kind, device.clone());
    Ok(device)
}
