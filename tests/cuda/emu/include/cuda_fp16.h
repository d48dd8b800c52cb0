/* Stand-in: the emulation provides f16 helpers in emu_device.h. */
