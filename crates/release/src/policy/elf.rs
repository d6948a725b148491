//! The policy for Linux binaries (64-bit ELF, x86_64 and aarch64): Core's
//! symbol-check rules (symbol versions, libraries, loader, ABI note, no
//! run paths, no exports) and its security-check rules that a Rust
//! executable can meet (PIE, NX, RELRO with BIND_NOW, separate code).

use std::collections::BTreeMap;
use std::path::Path;

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, ProgramHeader, SectionHeader, Sym};
use object::{Endianness, Object};

use super::{
    parse_version, version_text, Check, Checker, PolicyError, Report, ELF_ALLOWED_LIBRARIES,
    GCC_CEILING, GLIBC_CEILING,
};

/// The newest kernel the ABI note may ask for: glibc 2.31's configured
/// minimum in Core's builds. Debian's glibc says 3.2.0.
const KERNEL_CEILING: (u32, u32, u32) = (3, 17, 0);

/// The symbols a binary may export: the three stdio streams, which copy
/// relocations can put in an executable's `.dynsym`.
const ALLOWED_EXPORTS: &[&str] = &["stdin", "stdout", "stderr"];

type File<'data> = ElfFile64<'data, Endianness>;

pub(super) fn check(path: &Path, data: &[u8]) -> Result<Report, PolicyError> {
    let malformed = |error: object::read::Error| PolicyError::Malformed {
        path: path.to_path_buf(),
        format: "ELF",
        reason: error.to_string(),
    };
    let file = File::parse(data).map_err(malformed)?;
    let endian = file.endian();
    let machine = file.elf_header().e_machine(endian);
    let (arch, interpreter) = match machine {
        elf::EM_X86_64 => ("x86_64", "/lib64/ld-linux-x86-64.so.2"),
        elf::EM_AARCH64 => ("aarch64", "/lib/ld-linux-aarch64.so.1"),
        other => {
            return Err(PolicyError::Unsupported {
                path: path.to_path_buf(),
                what: format!("ELF for machine {}", other.0),
            })
        }
    };
    let facts = Facts::read(&file, data).map_err(malformed)?;

    let mut checker = Checker::new();
    checker.record(
        Check::ImportedSymbols,
        imported_symbols(&file).map_err(malformed)?,
    );
    checker.record(
        Check::ExportedSymbols,
        exported_symbols(&file).map_err(malformed)?,
    );
    checker.record(
        Check::LibraryDependencies,
        facts
            .needed
            .iter()
            .filter(|library| !ELF_ALLOWED_LIBRARIES.contains(&library.as_str()))
            .map(|library| {
                format!("needs {library}, which is not on the allowed list (link it statically)")
            })
            .collect(),
    );
    checker.record(
        Check::InterpreterName,
        match &facts.interpreter {
            Some(found) if found == interpreter => vec![],
            Some(found) => vec![format!("loader is {found}, expected {interpreter}")],
            None => vec![format!(
                "no PT_INTERP, expected {interpreter} (a static or non-executable file)"
            )],
        },
    );
    checker.record(
        Check::Abi,
        match facts.abi_kernel {
            Some(kernel) if kernel <= KERNEL_CEILING => vec![],
            Some(kernel) => vec![format!(
                "ABI note asks for Linux {}, newer than {}",
                version_text(kernel),
                version_text(KERNEL_CEILING)
            )],
            None => {
                vec!["no NT_GNU_ABI_TAG note (not linked against glibc's startup files?)".into()]
            }
        },
    );
    checker.record(
        Check::Runpath,
        facts
            .run_paths
            .iter()
            .map(|(tag, value)| format!("{tag} is `{value}`; a release binary finds its libraries in the system's paths only"))
            .collect(),
    );
    let is_pie = file.elf_header().e_type(endian) == elf::ET_DYN
        && (facts.interpreter.is_some() || facts.flags_1_pie);
    checker.record(
        Check::Pie,
        if is_pie {
            vec![]
        } else {
            vec!["not a position-independent executable (link with -pie)".into()]
        },
    );
    checker.record(
        Check::Nx,
        match facts.stack_executable {
            Some(false) => vec![],
            Some(true) => vec!["PT_GNU_STACK is executable (link with -z noexecstack)".into()],
            None => vec![
                "no PT_GNU_STACK, so the stack is executable (link with -z noexecstack)".into(),
            ],
        },
    );
    let mut relro = Vec::new();
    if !facts.has_relro {
        relro.push("no PT_GNU_RELRO segment (link with -z relro)".to_string());
    }
    if !facts.bind_now {
        relro.push("DT_FLAGS lacks BIND_NOW, so RELRO is partial (link with -z now)".to_string());
    }
    checker.record(Check::Relro, relro);
    checker.record(
        Check::SeparateCode,
        separate_code(&file).map_err(malformed)?,
    );
    Ok(checker.report(path, format!("ELF {arch}")))
}

/// What the program headers and the dynamic table say.
#[derive(Default)]
struct Facts {
    interpreter: Option<String>,
    stack_executable: Option<bool>,
    has_relro: bool,
    abi_kernel: Option<(u32, u32, u32)>,
    needed: Vec<String>,
    run_paths: Vec<(&'static str, String)>,
    bind_now: bool,
    flags_1_pie: bool,
}

impl Facts {
    fn read(file: &File<'_>, data: &[u8]) -> object::read::Result<Self> {
        let endian = file.endian();
        let mut facts = Facts::default();
        for header in file.elf_program_headers() {
            let kind = header.p_type(endian);
            if let Some(interpreter) = header.interpreter(endian, data)? {
                facts.interpreter = Some(String::from_utf8_lossy(interpreter).into_owned());
            } else if kind == elf::PT_GNU_STACK {
                facts.stack_executable = Some(header.p_flags(endian).contains(elf::PF_X));
            } else if kind == elf::PT_GNU_RELRO {
                facts.has_relro = true;
            } else if let Some(mut notes) = header.notes(endian, data)? {
                while let Some(note) = notes.next()? {
                    if note.name() == b"GNU" && note.n_type(endian) == elf::NT_GNU_ABI_TAG {
                        facts.abi_kernel = abi_tag_kernel(note.desc(), endian);
                    }
                }
            }
        }
        let dynamic = file.elf_dynamic_table()?;
        for entry in dynamic.iter() {
            let string = || {
                dynamic
                    .string(entry)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
            };
            match entry.tag {
                elf::DT_NEEDED => facts.needed.push(string()?),
                elf::DT_RPATH => facts.run_paths.push(("DT_RPATH", string()?)),
                elf::DT_RUNPATH => facts.run_paths.push(("DT_RUNPATH", string()?)),
                elf::DT_FLAGS => {
                    facts.bind_now = elf::DynamicFlags(entry.val).contains(elf::DF_BIND_NOW)
                }
                elf::DT_FLAGS_1 => {
                    facts.flags_1_pie = elf::DynamicFlags1(entry.val).contains(elf::DF_1_PIE)
                }
                _ => {}
            }
        }
        Ok(facts)
    }
}

/// The kernel version in an NT_GNU_ABI_TAG descriptor: four 32-bit words,
/// the OS (0 for Linux) then major, minor, patch.
fn abi_tag_kernel(desc: &[u8], endian: Endianness) -> Option<(u32, u32, u32)> {
    use object::Endian;
    let word = |index: usize| {
        let bytes: [u8; 4] = desc.get(index * 4..index * 4 + 4)?.try_into().ok()?;
        Some(endian.read_u32(bytes))
    };
    (word(0)? == 0).then_some((word(1)?, word(2)?, word(3)?))
}

/// Every versioned import under its family's ceiling. One problem per
/// offending version, naming its symbols (a shared libstdc++ alone brings
/// dozens).
fn imported_symbols(file: &File<'_>) -> object::read::Result<Vec<String>> {
    let mut offenders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for import in file.imports()? {
        let import = import?;
        let object::ImportFlags::Elf {
            version: Some(version),
            ..
        } = import.flags()
        else {
            continue;
        };
        let version = String::from_utf8_lossy(version);
        let (family, number) = version.rsplit_once('_').unwrap_or((&version, ""));
        let ceiling = match family {
            "GLIBC" => GLIBC_CEILING,
            "GCC" => GCC_CEILING,
            _ => {
                let problem = format!(
                    "{family} symbols, from a library that must be linked statically (libstdc++, libatomic)"
                );
                offenders
                    .entry(problem)
                    .or_default()
                    .push(symbol_name(&import));
                continue;
            }
        };
        if parse_version(number).is_none_or(|found| found > ceiling) {
            let problem = format!(
                "needs {version}, newer than {family}_{} (build against the release sysroot)",
                version_text(ceiling)
            );
            offenders
                .entry(problem)
                .or_default()
                .push(symbol_name(&import));
        }
    }
    Ok(offenders
        .into_iter()
        .map(|(problem, mut names)| {
            names.sort();
            names.dedup();
            let shown = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = match names.len() {
                0..=3 => String::new(),
                n => format!(" and {} more", n - 3),
            };
            format!("{problem}: {shown}{more}")
        })
        .collect())
}

fn symbol_name(import: &object::Import<'_>) -> String {
    match import.name() {
        object::NameOrOrdinal::Name(name) => String::from_utf8_lossy(name).into_owned(),
        object::NameOrOrdinal::Ordinal(ordinal) => format!("#{ordinal}"),
    }
}

/// Nothing exported but [`ALLOWED_EXPORTS`]: a defined, global or weak,
/// function or object in `.dynsym`.
fn exported_symbols(file: &File<'_>) -> object::read::Result<Vec<String>> {
    let endian = file.endian();
    let table = file.elf_dynamic_symbol_table();
    let mut problems = Vec::new();
    for symbol in table.symbols().iter().skip(1) {
        let defined = !symbol.is_undefined(endian)
            && (symbol.st_value(endian) != 0 || symbol.st_size(endian) != 0);
        let visible = matches!(symbol.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK);
        let kind = matches!(
            symbol.st_type(),
            elf::STT_FUNC | elf::STT_GNU_IFUNC | elf::STT_OBJECT
        );
        if defined && visible && kind {
            let name = String::from_utf8_lossy(symbol.name(endian, table.strings())?);
            if !ALLOWED_EXPORTS.contains(&name.as_ref()) {
                problems.push(format!("exports {name}"));
            }
        }
    }
    Ok(problems)
}

/// Each section's permissions are those of the load segment holding it; the
/// sections that matter must be code only (R+X), read-only data (R) or
/// writable data (R+W), never a mix.
fn separate_code(file: &File<'_>) -> object::read::Result<Vec<String>> {
    const R: u32 = 4;
    const W: u32 = 2;
    const X: u32 = 1;
    let expected: &[(&[&str], u32)] = &[
        (
            &[".init", ".plt", ".plt.got", ".plt.sec", ".text", ".fini"],
            R | X,
        ),
        (
            &[
                ".interp",
                ".note.gnu.property",
                ".note.gnu.build-id",
                ".note.ABI-tag",
                ".gnu.hash",
                ".dynsym",
                ".dynstr",
                ".gnu.version",
                ".gnu.version_r",
                ".rela.dyn",
                ".rela.plt",
                ".rodata",
                ".eh_frame_hdr",
                ".eh_frame",
                ".gcc_except_table",
            ],
            R,
        ),
        (
            &[
                ".init_array",
                ".fini_array",
                ".dynamic",
                ".got",
                ".data",
                ".bss",
            ],
            R | W,
        ),
    ];
    let endian = file.endian();
    let sections = file.elf_section_table();
    let loads: Vec<_> = file
        .elf_program_headers()
        .iter()
        .filter(|header| header.p_type(endian) == elf::PT_LOAD)
        .collect();
    let mut problems = Vec::new();
    for section in sections.iter() {
        let name = String::from_utf8_lossy(sections.section_name(endian, section)?);
        let Some((_, wanted)) = expected
            .iter()
            .find(|(names, _)| names.contains(&name.as_ref()))
        else {
            continue;
        };
        let address = section.sh_addr(endian);
        // The last load segment holding the section decides, as the loader
        // maps them in order.
        let Some(segment) = loads.iter().rev().find(|header| {
            let start = header.p_vaddr(endian);
            (start..start + header.p_memsz(endian)).contains(&address)
        }) else {
            continue;
        };
        let flags = segment.p_flags(endian).0 & (R | W | X);
        if flags != *wanted {
            problems.push(format!(
                "{name} is mapped {}, expected {} (link with -z separate-code)",
                permissions(flags),
                permissions(*wanted)
            ));
        }
    }
    Ok(problems)
}

fn permissions(flags: u32) -> String {
    [(4, 'R'), (2, 'W'), (1, 'X')]
        .iter()
        .map(|&(bit, letter)| if flags & bit != 0 { letter } else { '-' })
        .collect()
}
