//! The Windows side: the data directory where Bitcoin Core puts its own
//! since version 28 (`%LOCALAPPDATA%\C1pzo`, or an existing
//! `%APPDATA%\C1pzo` from before), and private files made with a
//! protected ACL that grants the current user, and nobody else, access.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::FromRawHandle;
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    GetAce, GetTokenInformation, TokenUser, ACCESS_ALLOWED_ACE, ACL, DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{CreateFileW, CREATE_NEW, FILE_ATTRIBUTE_NORMAL};
use windows_sys::Win32::System::Com::CoTaskMemFree;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
use windows_sys::Win32::UI::Shell::{
    FOLDERID_LocalAppData, FOLDERID_RoamingAppData, SHGetKnownFolderPath,
};

/// The folder name under the application-data folders (Core: `Bitcoin`).
const NAME: &str = "C1pzo";

/// `%LOCALAPPDATA%\C1pzo`, unless `%APPDATA%\C1pzo` exists (a data
/// directory from before the move, which stays where it is), as Bitcoin
/// Core chooses since version 28. The environment's values come first, as
/// the shell sets them for the user (and a test can point them elsewhere);
/// the known-folder API answers when they are unset. `env` reads the
/// environment.
pub fn default_datadir_in(env: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    let legacy = app_data_folder(env, "APPDATA", &FOLDERID_RoamingAppData).map(|f| f.join(NAME));
    if let Some(legacy) = legacy.filter(|path| path.exists()) {
        return legacy;
    }
    app_data_folder(env, "LOCALAPPDATA", &FOLDERID_LocalAppData)
        .unwrap_or_else(|| PathBuf::from(r"C:\"))
        .join(NAME)
}

fn app_data_folder(
    env: &dyn Fn(&str) -> Option<OsString>,
    variable: &str,
    known: &windows_sys::core::GUID,
) -> Option<PathBuf> {
    if let Some(value) = env(variable).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(value));
    }
    let mut path = std::ptr::null_mut();
    // SAFETY: on success the shell hands us a NUL-terminated string that
    // we free with CoTaskMemFree, as documented; on failure it is freed too.
    unsafe {
        let found = SHGetKnownFolderPath(known, 0, std::ptr::null_mut(), &mut path);
        let folder = (found == 0).then(|| PathBuf::from(from_wide_nul(path)));
        CoTaskMemFree(path.cast());
        folder
    }
}

/// A NUL-terminated UTF-16 string the OS gave us.
///
/// # Safety
/// `text` must point at a NUL-terminated UTF-16 string.
unsafe fn from_wide_nul(text: *const u16) -> OsString {
    let mut length = 0;
    while unsafe { *text.add(length) } != 0 {
        length += 1;
    }
    OsString::from_wide(unsafe { std::slice::from_raw_parts(text, length) })
}

fn wide_nul(text: impl AsRef<std::ffi::OsStr>) -> Vec<u16> {
    text.as_ref().encode_wide().chain([0]).collect()
}

/// Creates `path` for writing with a protected ACL that grants the
/// current user full control and nobody else anything: what mode 0600 is
/// on unix. A file already there is an `AlreadyExists` error, never
/// opened (Windows would keep its ACL).
pub fn create_new_private(path: &Path) -> io::Result<File> {
    // D: the DACL; P: protected (nothing inherited from the folder); one
    // ACE: Allow, File All access, to the current user's SID.
    let sddl = wide_nul(format!("D:P(A;;FA;;;{})", current_user_sid()?));
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: a valid NUL-terminated SDDL string; the descriptor the call
    // allocates is freed with LocalFree below.
    let parsed = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        )
    };
    if parsed == 0 {
        return Err(io::Error::last_os_error());
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    let wide_path = wide_nul(path);
    // SAFETY: valid path and attributes; the handle returned is owned by
    // the File made from it.
    let handle = unsafe {
        CreateFileW(
            wide_path.as_ptr(),
            GENERIC_WRITE,
            0,
            &attributes,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL,
            std::ptr::null_mut(),
        )
    };
    let error = io::Error::last_os_error();
    // SAFETY: allocated by the conversion above, used only by CreateFileW.
    unsafe { LocalFree(descriptor) };
    if handle == INVALID_HANDLE_VALUE {
        return Err(error);
    }
    // SAFETY: a file handle we just opened and own.
    Ok(unsafe { File::from_raw_handle(handle) })
}

/// Whether only the current user (and the operating system itself,
/// LocalSystem) may open `path`: every access-allowed entry of its ACL
/// names one of the two, and one names the user. That is what
/// [`create_new_private`] makes on Windows; wine, which keeps no ACLs of
/// its own, reads back entries made from the unix mode it set, which pass
/// when and only when the mode gives nobody else access.
pub fn is_private(path: &Path) -> io::Result<bool> {
    let wide_path = wide_nul(path);
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: valid path; the descriptor allocated is freed below, and the
    // DACL pointer points into it.
    let read = unsafe {
        GetNamedSecurityInfoW(
            wide_path.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut descriptor,
        )
    };
    if read != 0 {
        return Err(io::Error::from_raw_os_error(read as i32));
    }
    let user = current_user_sid()?;
    // SAFETY: the DACL is valid until LocalFree; each ACE pointer GetAce
    // gives points into it, and access-allowed ACEs end in their SID.
    let private = unsafe {
        let mut user_allowed = false;
        let mut others_allowed = dacl.is_null(); // no DACL: everyone
        for index in 0..if dacl.is_null() { 0 } else { (*dacl).AceCount } {
            let mut ace: *mut core::ffi::c_void = std::ptr::null_mut();
            if GetAce(dacl, u32::from(index), &mut ace) == 0 {
                others_allowed = true;
                break;
            }
            let ace = &*(ace as *const ACCESS_ALLOWED_ACE);
            if ace.Header.AceType != ACCESS_ALLOWED_ACE_TYPE {
                continue;
            }
            match sid_string(std::ptr::addr_of!(ace.SidStart) as *mut _)?.as_str() {
                sid if sid == user => user_allowed = true,
                LOCAL_SYSTEM => {}
                _ => others_allowed = true,
            }
        }
        LocalFree(descriptor);
        user_allowed && !others_allowed
    };
    Ok(private)
}

/// `ACE_HEADER.AceType` of an access-allowed entry (winnt.h).
const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;

/// The operating system's own account, which may open every file.
const LOCAL_SYSTEM: &str = "S-1-5-18";

/// A SID in string form (`S-1-5-21-...`).
///
/// # Safety
/// `sid` must point at a valid SID.
unsafe fn sid_string(sid: *mut core::ffi::c_void) -> io::Result<String> {
    let mut text = std::ptr::null_mut();
    // SAFETY: a valid SID (the caller's promise); the string allocated is
    // freed with LocalFree.
    unsafe {
        if ConvertSidToStringSidW(sid, &mut text) == 0 {
            return Err(io::Error::last_os_error());
        }
        let sid = from_wide_nul(text).to_string_lossy().into_owned();
        LocalFree(text.cast());
        Ok(sid)
    }
}

/// The current user's SID in string form (`S-1-5-21-...`).
fn current_user_sid() -> io::Result<String> {
    let user = current_user()?;
    // SAFETY: the SID inside the token information we hold.
    unsafe { sid_string(user.sid()) }
}

/// The process token's `TOKEN_USER`, in a buffer it owns.
struct CurrentUser(Vec<u64>);

impl CurrentUser {
    fn sid(&self) -> *mut core::ffi::c_void {
        // SAFETY: the buffer holds a TOKEN_USER filled by the OS.
        unsafe { (*(self.0.as_ptr() as *const TOKEN_USER)).User.Sid }
    }
}

fn current_user() -> io::Result<CurrentUser> {
    // SAFETY: the token handle is closed below; the buffer is sized by the
    // first call and aligned for TOKEN_USER (u64 elements).
    unsafe {
        let mut token: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut needed = 0u32;
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut needed);
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
        let filled = GetTokenInformation(
            token,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            needed,
            &mut needed,
        );
        let error = io::Error::last_os_error();
        CloseHandle(token);
        if filled == 0 {
            return Err(error);
        }
        Ok(CurrentUser(buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_datadir_moves_to_local_app_data_unless_roaming_has_one() {
        let local = tempfile::tempdir().unwrap();
        let roaming = tempfile::tempdir().unwrap();
        let env = |key: &str| match key {
            "LOCALAPPDATA" => Some(local.path().as_os_str().to_owned()),
            "APPDATA" => Some(roaming.path().as_os_str().to_owned()),
            _ => None,
        };
        assert_eq!(default_datadir_in(&env), local.path().join("C1pzo"));
        std::fs::create_dir(roaming.path().join("C1pzo")).unwrap();
        assert_eq!(default_datadir_in(&env), roaming.path().join("C1pzo"));
        // Unset variables: the shell's known folders answer.
        let known = default_datadir_in(&|_| None);
        assert!(known.is_absolute(), "{}", known.display());
        assert!(known.ends_with("C1pzo"), "{}", known.display());
    }

    #[test]
    fn a_private_file_grants_the_current_user_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cookie");
        std::fs::write(&path, "old").unwrap();
        assert!(
            !is_private(&path).unwrap(),
            "a plain file inherits the folder's ACL"
        );
        let refused = create_new_private(&path).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        std::fs::remove_file(&path).unwrap();
        use std::io::Write;
        create_new_private(&path)
            .unwrap()
            .write_all(b"new")
            .unwrap();
        assert!(is_private(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
