//! Hardware described on the command line (`--ram`, `--gpu`, `--unified`) instead of probed.

use thiserror::Error;

use super::gpu_specs::{self, GpuSpec};
use super::hardware::{Gpu, Hardware, HardwareSource, SourceNote, Vendor, gpu_share};
use crate::size::{SizeError, parse_size};

/// A machine as the user described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub ram: u64,
    pub gpus: Vec<DescribedGpu>,
    pub unified: bool,
}

/// One GPU as described: a vendor and a size (`nvidia:24GiB`), or a product from the table (`RTX 4090`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGpu {
    pub vendor: Vendor,
    pub bytes: u64,
    pub product: Option<&'static GpuSpec>,
}

/// A description that cannot be read.
#[derive(Debug, Clone, Error)]
pub enum DescribeError {
    #[error("Cannot read `--ram {value}`")]
    Ram {
        value: String,
        #[source]
        source: SizeError,
    },
    #[error("Cannot read `--gpu {value}`")]
    Gpu {
        value: String,
        #[source]
        source: SizeError,
    },
    #[error("`--gpu {value}` names an unknown vendor `{vendor}`")]
    Vendor { value: String, vendor: String },
    #[error("`--gpu {value}` is a laptop GPU, which the product table does not hold")]
    LaptopGpu { value: String },
    #[error("`--gpu {value}` is less than 1 GiB of GPU memory")]
    TooSmall { value: String },
    #[error(
        "`--gpu {value}` shares the machine's RAM, so it cannot be described beside other GPUs"
    )]
    Mixed { value: String },
    #[error("`--gpu {value}` is not a GPU codex-local knows{}", close_names(close))]
    UnknownGpu {
        value: String,
        close: Vec<&'static str>,
    },
}

fn close_names(close: &[&str]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = close.iter().map(|name| format!("`{name}`")).collect();
        format!(" (close: {})", quoted.join(", "))
    }
}

impl DescribeError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Ram { source, .. } | Self::Gpu { source, .. } => source.hint(),
            Self::Vendor { .. } => {
                "use one of `nvidia`, `amd`, `intel`, `apple`, e.g. `--gpu amd:16GiB`, or a product name such as \
                 `--gpu \"RTX 4090\"`"
            }
            Self::LaptopGpu { .. } => {
                "give its memory instead, e.g. `--gpu nvidia:8GiB` (its speed is then a marked guess)"
            }
            Self::TooSmall { .. } => "give the GPU's memory, e.g. `--gpu nvidia:8GiB`",
            Self::Mixed { .. } => {
                "describe an Apple chip, DGX Spark or Ryzen AI Max alone, with `--ram` for its memory"
            }
            Self::UnknownGpu { .. } => {
                "give a product name from the table (NVIDIA RTX 20-50, RTX A/Ada/PRO, A100/H100/H200/B200, DGX Spark, \
                 Apple M1-M5, Radeon RX 6000-9000, Ryzen AI Max, Intel Arc) or a vendor and size such as \
                 `--gpu nvidia:24GiB`"
            }
        }
    }
}

impl Described {
    /// Reads the options; `None` when no hardware was described.
    pub fn from_args(
        ram: Option<&str>,
        gpus: &[String],
        unified: bool,
    ) -> Result<Option<Self>, DescribeError> {
        let Some(ram_text) = ram else {
            return Ok(None);
        };
        let ram = parse_size(ram_text).map_err(|source| DescribeError::Ram {
            value: ram_text.to_owned(),
            source,
        })?;
        let gpus = gpus
            .iter()
            .map(|value| describe_gpu(value))
            .collect::<Result<Vec<_>, _>>()?;
        // An Apple chip named by product is unified memory, as `--unified` says; it is the machine's only GPU.
        let shared = gpus
            .iter()
            .find(|gpu| gpu.product.is_some_and(|p| p.unified));
        if let Some(shared) = shared.filter(|_| gpus.len() > 1) {
            return Err(DescribeError::Mixed {
                value: shared
                    .product
                    .map_or_else(String::new, |p| p.name.to_owned()),
            });
        }
        let unified = unified || shared.is_some();
        Ok(Some(Self { ram, gpus, unified }))
    }

    /// The hardware facts this description stands for; everything described is taken as free.
    #[must_use]
    pub fn hardware(&self) -> Hardware {
        let share = gpu_share(self.ram, 0);
        let mut gpus: Vec<Gpu> = self
            .gpus
            .iter()
            .map(|gpu| {
                // A chip that shares RAM gets the share of it the runtime may use.
                let bytes = match gpu.product {
                    Some(product) if product.unified => share,
                    _ => gpu.bytes,
                };
                Gpu {
                    vendor: gpu.vendor,
                    name: gpu.product.map_or_else(
                        || format!("{} GPU (described)", gpu.vendor),
                        |product| product.name.to_owned(),
                    ),
                    memory_total_bytes: Some(bytes),
                    memory_free_bytes: Some(bytes),
                    integrated: gpu.product.is_some_and(|p| p.unified),
                    driver: None,
                    source: "described",
                }
            })
            .collect();
        if self.unified && !gpus.iter().any(|gpu| gpu.integrated) {
            gpus.push(Gpu {
                vendor: Vendor::Apple,
                name: "Apple Silicon GPU (described, unified memory)".to_owned(),
                memory_total_bytes: Some(share),
                memory_free_bytes: Some(share),
                integrated: true,
                driver: None,
                source: "described",
            });
        }
        Hardware {
            source: HardwareSource::Described,
            ram_total_bytes: self.ram,
            ram_available_bytes: self.ram,
            ram_physical_bytes: self.ram,
            cgroup_limit_bytes: None,
            unified: self.unified,
            cpu: None,
            gpus,
            sources: vec![SourceNote::found("described")],
        }
    }
}

/// One `--gpu` value: `[VENDOR:]SIZE`, or a product name from the table.
fn describe_gpu(value: &str) -> Result<DescribedGpu, DescribeError> {
    let (vendor, size) = match value.split_once(':') {
        Some((word, size)) => match Vendor::from_word(word) {
            Some(vendor) => (vendor, size),
            None if gpu_specs::find_exact(value).is_some() => return Ok(product(value)),
            None => {
                return Err(DescribeError::Vendor {
                    value: value.to_owned(),
                    vendor: word.to_owned(),
                });
            }
        },
        None => (Vendor::Nvidia, value),
    };
    match parse_size(size) {
        Ok(bytes) if bytes < MIN_GPU => Err(DescribeError::TooSmall {
            value: value.to_owned(),
        }),
        Ok(bytes) => Ok(DescribedGpu {
            vendor,
            bytes,
            product: None,
        }),
        // Not a size: a product name, or a mistake with names close to it.
        Err(source) if size.chars().any(char::is_alphabetic) && value.split_once(':').is_none() => {
            drop(source);
            if gpu_specs::find_exact(value).is_some() {
                Ok(product(value))
            } else if gpu_specs::is_laptop(value) {
                Err(DescribeError::LaptopGpu {
                    value: value.to_owned(),
                })
            } else {
                Err(DescribeError::UnknownGpu {
                    value: value.to_owned(),
                    close: gpu_specs::close_to(value),
                })
            }
        }
        Err(source) => Err(DescribeError::Gpu {
            value: value.to_owned(),
            source,
        }),
    }
}

/// The least GPU memory worth describing.
const MIN_GPU: u64 = 1 << 30;

/// The product a name stands for (it must be in the table).
fn product(value: &str) -> DescribedGpu {
    let spec = gpu_specs::find_exact(value).unwrap_or(&gpu_specs::GPUS[0]);
    DescribedGpu {
        vendor: spec.vendor,
        bytes: u64::from(spec.memory_gib) << 30,
        product: Some(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn reads_ram_and_gpus_with_nvidia_as_the_default_vendor() {
        let gpus = vec!["24GiB".to_owned(), "amd:16G".to_owned()];
        let described = Described::from_args(Some("64GiB"), &gpus, false)
            .expect("valid")
            .expect("described");
        assert_eq!(described.ram, 64 * GIB);
        let sizes: Vec<(Vendor, u64)> =
            described.gpus.iter().map(|g| (g.vendor, g.bytes)).collect();
        assert_eq!(
            sizes,
            vec![(Vendor::Nvidia, 24 * GIB), (Vendor::Amd, 16 * GIB)]
        );
        let hardware = described.hardware();
        assert_eq!(hardware.source, HardwareSource::Described);
        assert_eq!(hardware.gpus.len(), 2);
        assert_eq!(hardware.gpus[1].memory_free_bytes, Some(16 * GIB));
    }

    #[test]
    fn unified_memory_gives_the_gpu_apples_share() {
        let described = Described::from_args(Some("36GiB"), &[], true)
            .expect("valid")
            .expect("described");
        let hardware = described.hardware();
        assert!(hardware.unified);
        assert_eq!(hardware.gpus[0].vendor, Vendor::Apple);
        assert_eq!(hardware.gpus[0].memory_total_bytes, Some(24 * GIB));
    }

    #[test]
    fn a_product_name_brings_its_memory_and_apple_chips_share_ram() {
        let gpus = vec!["RTX 4090".to_owned()];
        let described = Described::from_args(Some("64GiB"), &gpus, false)
            .expect("valid")
            .expect("described");
        let hardware = described.hardware();
        assert_eq!(hardware.gpus[0].name, "RTX 4090");
        assert_eq!(hardware.gpus[0].memory_total_bytes, Some(24 * GIB));

        let gpus = vec!["Apple M3 Max".to_owned()];
        let described = Described::from_args(Some("64GiB"), &gpus, false)
            .expect("valid")
            .expect("described");
        assert!(described.unified);
        let hardware = described.hardware();
        assert_eq!(hardware.gpus.len(), 1);
        assert_eq!(hardware.gpus[0].memory_total_bytes, Some(48 * GIB));

        let err = Described::from_args(Some("64GiB"), &["RTX 4900".to_owned()], false)
            .expect_err("unknown");
        assert!(err.to_string().contains("`RTX 4090`"), "{err}");
    }

    #[test]
    fn refuses_unknown_vendors_and_sizes() {
        assert!(
            Described::from_args(None, &[], false)
                .expect("nothing described")
                .is_none()
        );
        let err = Described::from_args(Some("32GiB"), &["matrox:8G".to_owned()], false)
            .expect_err("vendor");
        assert!(err.to_string().contains("matrox"), "{err}");
        let err = Described::from_args(Some("lots"), &[], false).expect_err("ram");
        assert!(err.to_string().contains("--ram lots"), "{err}");
    }
}
