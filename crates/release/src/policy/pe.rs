//! The policy for Windows binaries (PE32+): imported DLLs on the allowed
//! list, Core's subsystem version, and the ASLR and DEP flags with the
//! relocations ASLR needs.

use std::path::Path;

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile64};
use object::{LittleEndian, Object};

use super::{Check, Checker, PolicyError, Report, PE_ALLOWED_DLLS};

/// Core's subsystem version (Windows 8's, `--major/minor-subsystem-version`).
const SUBSYSTEM_VERSION: (u16, u16) = (6, 2);

pub(super) fn check(path: &Path, data: &[u8]) -> Result<Report, PolicyError> {
    let malformed = |error: object::read::Error| PolicyError::Malformed {
        path: path.to_path_buf(),
        format: "PE",
        reason: error.to_string(),
    };
    let file = PeFile64::parse(data).map_err(malformed)?;
    let header = file.nt_headers().optional_header();
    let mut checker = Checker::new();

    let mut foreign = Vec::new();
    for library in file.import_libraries().map_err(malformed)? {
        let name = String::from_utf8_lossy(library.map_err(malformed)?.name()).into_owned();
        if !PE_ALLOWED_DLLS.contains(&name.to_ascii_lowercase().as_str()) {
            foreign.push(format!(
                "imports {name}, which is not on the allowed list of Windows system DLLs (link it statically)"
            ));
        }
    }
    checker.record(Check::DynamicLibraries, foreign);

    let version = (
        header.major_subsystem_version(),
        header.minor_subsystem_version(),
    );
    checker.record(
        Check::SubsystemVersion,
        if version == SUBSYSTEM_VERSION {
            vec![]
        } else {
            vec![format!(
                "subsystem version {}.{}, expected {}.{} (link with --major-subsystem-version,{} --minor-subsystem-version,{})",
                version.0, version.1, SUBSYSTEM_VERSION.0, SUBSYSTEM_VERSION.1, SUBSYSTEM_VERSION.0, SUBSYSTEM_VERSION.1
            )]
        },
    );

    let flags = header.dll_characteristics();
    let flag = |bit: pe::DllFlags, problem: &str| {
        if flags.contains(bit) {
            vec![]
        } else {
            vec![problem.to_string()]
        }
    };
    let dynamic_base = flag(
        pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE,
        "DYNAMIC_BASE is not set, so the image is never moved (link with --dynamicbase)",
    );
    checker.record(Check::Pie, dynamic_base.clone());
    checker.record(Check::DynamicBase, dynamic_base);
    checker.record(
        Check::HighEntropyVa,
        flag(
            pe::IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA,
            "HIGH_ENTROPY_VA is not set (link with --high-entropy-va)",
        ),
    );
    checker.record(
        Check::Nx,
        flag(
            pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
            "NX_COMPAT is not set, so data pages may run as code (link with --nxcompat)",
        ),
    );
    let relocations = file
        .data_directory(pe::IMAGE_DIRECTORY_ENTRY_BASERELOC)
        .map_or(0, |directory| directory.size.get(LittleEndian));
    checker.record(
        Check::RelocSection,
        if relocations > 0 {
            vec![]
        } else {
            vec!["no base relocations, so ASLR cannot move the image (link with --enable-reloc-section)".into()]
        },
    );
    let arch = match file.architecture() {
        object::Architecture::X86_64 => "x86_64".to_string(),
        object::Architecture::Aarch64 => "aarch64".to_string(),
        other => format!("{other:?}"),
    };
    Ok(checker.report(path, format!("PE {arch}")))
}
