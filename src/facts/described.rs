//! Hardware described on the command line (`--ram`, `--gpu`, `--unified`) instead of probed.

use thiserror::Error;

use super::hardware::{Gpu, Hardware, HardwareSource, SourceNote, Vendor, gpu_share};
use crate::size::{SizeError, parse_size};

/// A machine as the user described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub ram: u64,
    pub gpus: Vec<(Vendor, u64)>,
    pub unified: bool,
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
}

impl DescribeError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Ram { source, .. } | Self::Gpu { source, .. } => source.hint(),
            Self::Vendor { .. } => {
                "use one of `nvidia`, `amd`, `intel`, `apple`, e.g. `--gpu amd:16GiB`"
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
            .map(|value| {
                let (vendor, size) = match value.split_once(':') {
                    Some((word, size)) => {
                        let vendor =
                            Vendor::from_word(word).ok_or_else(|| DescribeError::Vendor {
                                value: value.clone(),
                                vendor: word.to_owned(),
                            })?;
                        (vendor, size)
                    }
                    None => (Vendor::Nvidia, value.as_str()),
                };
                let bytes = parse_size(size).map_err(|source| DescribeError::Gpu {
                    value: value.clone(),
                    source,
                })?;
                Ok((vendor, bytes))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Self { ram, gpus, unified }))
    }

    /// The hardware facts this description stands for; everything described is taken as free.
    #[must_use]
    pub fn hardware(&self) -> Hardware {
        let mut gpus: Vec<Gpu> = self
            .gpus
            .iter()
            .map(|(vendor, bytes)| Gpu {
                vendor: *vendor,
                name: format!("{vendor} GPU (described)"),
                memory_total_bytes: Some(*bytes),
                memory_free_bytes: Some(*bytes),
                integrated: false,
                driver: None,
                source: "described",
            })
            .collect();
        if self.unified {
            let share = gpu_share(self.ram, 0);
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
        assert_eq!(
            described.gpus,
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
