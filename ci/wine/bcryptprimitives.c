/* ProcessPrng for wine older than 8.13 (Debian 12 ships 8.0), which has no
 * bcryptprimitives.dll. Rust's standard library asks ProcessPrng for the
 * keys of every HashMap, so without it no Rust program for Windows starts
 * under that wine. Windows 10 and later have the real one; this is built
 * into the tests' wine prefix only (`cargo xtask test HOST=x86_64-w64-mingw32`,
 * toolchains/x86_64-w64-mingw32.toml), never shipped.
 *
 * The bytes come from RtlGenRandom (advapi32's SystemFunction036), the
 * operating system's generator that wine does implement. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
