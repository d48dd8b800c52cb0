/* Stand-in: the emulation provides bf16 helpers in emu_device.h. */
