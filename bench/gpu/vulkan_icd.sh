# Sourced by the device scripts (after they cd to the repository root): points wgpu at the NVIDIA Vulkan driver.
# Usage: . bench/gpu/vulkan_icd.sh WORK_DIR   (writes ICD files there if needed; exports VK_ICD_FILENAMES)
work=$1
# The NVIDIA Vulkan driver. On the lent H100 (driver 580, no X server) the image's ICD file names
# libGLX_nvidia.so.0, whose vkCreateInstance the loader cannot get headless; the EGL library (NVIDIA's headless
# Vulkan entry) works. So: an ICD file for libEGL_nvidia.so.0 when the image has it, else the image's ICD file, else
# one written for libGLX_nvidia.so.0.
icd=""
find_lib() { ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}'; }
egl=$(find_lib libEGL_nvidia.so.0)
if [ -n "$egl" ]; then
    icd=$work/nvidia_egl_icd.json
    printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$egl" >"$icd"
fi
if [ -z "$icd" ]; then
    for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do
        if [ -f "$f" ]; then icd=$f; break; fi
    done
fi
if [ -z "$icd" ]; then
    lib=$(find_lib libGLX_nvidia.so.0)
    if [ -z "$lib" ]; then lib=$(find / -xdev -name 'libGLX_nvidia.so.0*' 2>/dev/null | head -1); fi
    if [ -n "$lib" ]; then
        icd=$work/nvidia_icd.json
        printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$icd"
    fi
fi
echo "Vulkan ICD: ${icd:-none found (no NVIDIA Vulkan driver in this image)}"
if [ -n "$icd" ]; then export VK_ICD_FILENAMES=$icd; fi
