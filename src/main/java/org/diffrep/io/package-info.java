/**
 * Shared file infrastructure, one of each: the {@code .npy} codec ({@link org.diffrep.io.Npy}), overflow-safe
 * size checks ({@link org.diffrep.io.Limits}), whole-or-nothing file writes ({@link org.diffrep.io.AtomicFiles}),
 * the configured JSON mappers ({@link org.diffrep.io.Json}) and SHA-256 digests ({@link org.diffrep.io.Hashes}).
 * Depends on nothing in diffrep but the top-level classes; every other package may use it.
 */
package org.diffrep.io;
