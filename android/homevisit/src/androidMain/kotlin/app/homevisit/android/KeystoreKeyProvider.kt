// Android only (not compiled on the JVM CI): the store key kept under Android Keystore
// (SAF-DEVICE-LOST). A random 32-byte store key is generated once, encrypted with a
// non-exportable AES-256-GCM key held by the Keystore, and only the ciphertext is written to
// the app's private files. A lost or stolen tablet yields the SQLCipher file and the ciphertext,
// never the key.
package app.homevisit.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import app.homevisit.kit.KeyProvider
import java.io.File
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

class KeystoreKeyProvider(
    context: Context,
    /** One key per signed-in user: the alias and file carry the user id. */
    private val userId: String,
) : KeyProvider {
    private val file = File(context.noBackupFilesDir, "homevisit-store-key-$userId.bin")
    private val alias = "homevisit-store-wrap-$userId"

    @Synchronized
    override fun storeKey(): ByteArray {
        val wrapping = wrappingKey()
        if (file.exists()) {
            val blob = file.readBytes()
            val iv = blob.copyOfRange(0, IV_BYTES)
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrapping, GCMParameterSpec(128, iv))
            return cipher.doFinal(blob, IV_BYTES, blob.size - IV_BYTES)
        }
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrapping)
        val sealed = cipher.iv + cipher.doFinal(key)
        val tmp = File(file.parentFile, file.name + ".tmp")
        tmp.writeBytes(sealed)
        check(tmp.renameTo(file)) { "could not store the wrapped store key" }
        return key
    }

    /** Forgets the key (sign-out after a full sync, or a revoked device): the store is unreadable. */
    @Synchronized
    fun destroy() {
        file.delete()
        KeyStore.getInstance(KEYSTORE).apply { load(null) }.deleteEntry(alias)
    }

    private fun wrappingKey(): SecretKey {
        val ks = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        (ks.getKey(alias, null) as? SecretKey)?.let { return it }
        val gen = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        gen.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return gen.generateKey()
    }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
    }
}
