//! The DLLs a Windows executable imports, read from its PE import
//! directory: what `objdump -p` lists as "DLL Name", without needing the
//! MinGW binutils. Enough of the format for that and nothing more.

/// The import table's DLL names, as written (case kept), or why the file
/// is not a PE32+ this can read.
pub fn imported_dlls(image: &[u8]) -> Result<Vec<String>, String> {
    let u16_at = |at: usize| -> Result<u16, String> {
        image
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| format!("truncated at {at:#x}"))
    };
    let u32_at = |at: usize| -> Result<u32, String> {
        image
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("truncated at {at:#x}"))
    };
    if image.get(..2) != Some(b"MZ") {
        return Err("no MZ header".into());
    }
    let pe = u32_at(0x3c)? as usize;
    if image.get(pe..pe + 4) != Some(b"PE\0\0") {
        return Err("no PE signature".into());
    }
    let sections = u16_at(pe + 6)? as usize;
    let optional_size = u16_at(pe + 20)? as usize;
    let optional = pe + 24;
    if u16_at(optional)? != 0x20b {
        return Err("not PE32+ (64-bit)".into());
    }
    // Data directory 1 (imports) of a PE32+ optional header.
    let import_rva = u32_at(optional + 112 + 8)? as usize;
    let section_table = optional + optional_size;
    // RVA -> file offset through the section that holds it.
    let file_offset = |rva: usize| -> Result<usize, String> {
        for index in 0..sections {
            let header = section_table + index * 40;
            let size = u32_at(header + 8)? as usize;
            let address = u32_at(header + 12)? as usize;
            let raw = u32_at(header + 20)? as usize;
            if (address..address + size).contains(&rva) {
                return Ok(rva - address + raw);
            }
        }
        Err(format!("RVA {rva:#x} is in no section"))
    };
    let mut names = Vec::new();
    let mut descriptor = file_offset(import_rva)?;
    loop {
        let name_rva = u32_at(descriptor + 12)? as usize;
        if name_rva == 0 {
            break;
        }
        let start = file_offset(name_rva)?;
        let end = image[start..]
            .iter()
            .position(|&b| b == 0)
            .ok_or("unterminated DLL name")?;
        names.push(String::from_utf8_lossy(&image[start..start + end]).into_owned());
        descriptor += 20;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_pe_says_why() {
        assert_eq!(imported_dlls(b"\x7fELF"), Err("no MZ header".into()));
        let mut dos = vec![0u8; 0x80];
        dos[..2].copy_from_slice(b"MZ");
        dos[0x3c] = 0x40;
        assert_eq!(imported_dlls(&dos), Err("no PE signature".into()));
    }
}
