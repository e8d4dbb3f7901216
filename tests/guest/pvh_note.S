/* SPDX-License-Identifier: MIT */
/* Xen ELF note PHYS32_ENTRY: this image boots with the PVH protocol. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start32
	.balign 4

	.section .note.GNU-stack, "", @progbits
