# SPDX-License-Identifier: GPL-2.0
#
# The C++ rule for Kbuild, shared by vfio_iommu_cxx.ko (../Kbuild) and the
# test mediated-device driver (../selftests/mdev/Kbuild).  Include it after
# setting VFIO_CXX_INCLUDES (the -I flags of the C++ units); add the C++
# objects to `targets` in the including Kbuild.
#

# The C++ compiler that matches the kernel's C compiler (gcc-12 -> g++-12).
VFIO_CXX_CXX ?= $(if $(findstring clang,$(CC)),$(subst clang,clang++,$(CC)),$(subst gcc,g++,$(CC)))

vfio-cxx-kflags := $(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS)
# Ask the C++ compiler which of the kernel's flags are C-only, once.
vfio-cxx-c-only := $(shell LC_ALL=C $(VFIO_CXX_CXX) $(vfio-cxx-kflags) -x c++ -c -o /dev/null /dev/null 2>&1 | \
	sed -n "s/.*'\(-[^']*\)' is \(not \)\{0,1\}valid for.*/\1/p")

# KASAN instruments C++ as Kbuild instruments C (scripts/Makefile.lib adds
# $(CFLAGS_KASAN) per object): on a KASAN kernel (the debug lane) the core's
# memory accesses are checked too.  Its global-registration constructor is
# the one .init_array entry the build lane allows there.
vfio-cxx-kasan := $(if $(filter y,$(CONFIG_KASAN)),$(if $(filter y,$(CONFIG_KASAN_HW_TAGS)),,$(CFLAGS_KASAN)))

# UBSAN likewise (Makefile.lib adds $(CFLAGS_UBSAN) to a module's C objects
# when the kernel has CONFIG_UBSAN, as Debian's 7.x do): the C++ units get
# the same checks, and call the kernel's own __ubsan_handle_* reporters.
vfio-cxx-ubsan := $(if $(filter y,$(CONFIG_UBSAN)),$(CFLAGS_UBSAN) $(CFLAGS_UBSAN_INTEGER_WRAP))

# Mutex::assert_held() calls the kernel only where lockdep checks it
# (vfio_cxx/sync.h).
#
# CXXFLAGS_<object>.o: flags of one C++ object, as Kbuild's CFLAGS_<object>.o.
#
# -Werror as the including Kbuild gives it to its C units (ccflags-y): the
# lanes ask for it, a user's DKMS build does not get it (../Kbuild).
# C++ DWARF stays in the objects (for debuggers and ORC-independent tools);
# pahole is told to skip C++ units when it makes the module's BTF (Makefile).
vfio-cxx-flags = -Wp,-MMD,$(depfile) $(NOSTDINC_FLAGS) \
	$(filter-out $(vfio-cxx-c-only),$(vfio-cxx-kflags)) \
	$(modkern_cflags) $(basename_flags) $(modname_flags) \
	-std=gnu++20 -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	-nostdinc++ -ffreestanding -fcheck-new -fno-use-cxa-atexit \
	$(filter -Werror,$(ccflags-y)) -Wno-missing-field-initializers \
	-DVFIO_CXX_KERNEL $(VFIO_CXX_INCLUDES) $(vfio-cxx-kasan) \
	$(if $(filter y,$(CONFIG_LOCKDEP)),-DVFIO_CXX_LOCK_ASSERTS) \
	$(filter-out $(vfio-cxx-c-only),$(vfio-cxx-ubsan)) $(CXXFLAGS_$(basetarget).o)

quiet_cmd_cc_o_cpp = CXX [M]  $@
      cmd_cc_o_cpp = $(VFIO_CXX_CXX) $(vfio-cxx-flags) -c -o $@ $< $(cmd_objtool)

define rule_cc_o_cpp
	$(call cmd_and_fixdep,cc_o_cpp)
	$(call cmd,gen_objtooldep)
endef

$(obj)/%.o: $(src)/%.cpp FORCE
	$(call if_changed_rule,cc_o_cpp)

