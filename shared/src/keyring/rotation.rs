//! The client side of a key change (docs/accounts.md, "Removing a member: the key change";
//! formats in docs/format.md, "Member keys"): a new library key sealed to every remaining holder
//! and the recovery key, the old key wrapped under the new one, then every video's key re-wrapped
//! batch by batch. Written once for the browser and a CLI.

use crate::api::keys::{
    RewrapBatchRequest, RotationBatch, RotationBatchItem, RotationGrant, RotationPlan,
    StartRotationRequest,
};
use crate::crypto::keys::{self, LibraryKey};
use crate::crypto::member::{seal_library_key, wrap_previous_library_key};
use crate::ids::VideoId;

use super::{KeyringError, Unlocked};

/// Why a key change step failed, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    #[error("{0}")]
    Keyring(#[from] KeyringError),
    #[error(
        "The library key changed in another tab or on another device. Reload the page to carry on."
    )]
    OtherGeneration,
    #[error(
        "The key of video {0} does not open with the previous library key, so the key change \
         cannot finish. Tell whoever runs the server."
    )]
    Undecryptable(VideoId),
}

impl From<crate::crypto::CryptoError> for RotationError {
    fn from(err: crate::crypto::CryptoError) -> Self {
        Self::Keyring(KeyringError::Crypto(err))
    }
}

/// Starts a key change from the unlocked current key: a new library key sealed to every holder in
/// `plan` (and to the recovery key), and the old key wrapped under the new. Answers the request
/// and what the caller holds once the server accepted it (the new key, the old as previous).
pub fn start_rotation(
    unlocked: &Unlocked,
    plan: &RotationPlan,
) -> Result<(StartRotationRequest, Unlocked), RotationError> {
    if unlocked.generation != plan.generation || plan.running.is_some() {
        return Err(RotationError::OtherGeneration);
    }
    let to = plan
        .generation
        .checked_add(1)
        .ok_or(RotationError::OtherGeneration)?;
    let library_key = LibraryKey::generate()?;
    let grants = plan
        .holders
        .iter()
        .map(|holder| {
            Ok(RotationGrant {
                username: holder.username.clone(),
                public_key: holder.public_key,
                sealed_library_key: seal_library_key(&holder.public_key, &library_key, to)?,
            })
        })
        .collect::<Result<Vec<_>, RotationError>>()?;
    let recovery_sealed_library_key = plan
        .recovery_public_key
        .as_ref()
        .map(|recovery| seal_library_key(recovery, &library_key, to))
        .transpose()?;
    let previous = wrap_previous_library_key(&library_key, to, &unlocked.library_key)?;
    let request = StartRotationRequest {
        from_generation: plan.generation,
        grants,
        recovery_sealed_library_key,
        previous,
    };
    let next = Unlocked {
        generation: to,
        library_key,
        previous: Some(unlocked.library_key.clone()),
        secret: unlocked.secret.clone(),
    };
    Ok((request, next))
}

/// One batch re-wrapped: each video's key opened with the previous library key and wrapped under
/// the current one. `unlocked` must hold the batch's generation and its previous key.
pub fn rewrap_batch(
    unlocked: &Unlocked,
    batch: &RotationBatch,
) -> Result<RewrapBatchRequest, RotationError> {
    let previous = match &unlocked.previous {
        Some(previous) if unlocked.generation == batch.to_generation => previous,
        _ => return Err(RotationError::OtherGeneration),
    };
    let items = batch
        .items
        .iter()
        .map(|item| {
            let dek = keys::unwrap_dek(previous, &item.video_id, &item.wrapped_dek)
                .map_err(|_| RotationError::Undecryptable(item.video_id))?;
            Ok(RotationBatchItem {
                video_id: item.video_id,
                wrapped_dek: keys::wrap_dek(&unlocked.library_key, &item.video_id, &dek)?,
            })
        })
        .collect::<Result<Vec<_>, RotationError>>()?;
    Ok(RewrapBatchRequest {
        to_generation: batch.to_generation,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::keys::{KeyHolder, LibraryMode, LibraryStatus, PreviousKey, RotationProgress};
    use crate::crypto::keys::{unwrap_dek, wrap_dek, Dek};
    use crate::crypto::member::{open_library_key, MemberSecretKey};
    use crate::keyring::open_library;

    fn unlocked_at(generation: u32, secret: &MemberSecretKey) -> Unlocked {
        Unlocked {
            generation,
            library_key: LibraryKey::generate().unwrap(),
            previous: None,
            secret: Some(secret.clone()),
        }
    }

    fn plan(generation: u32, holders: &[(&str, &MemberSecretKey)]) -> RotationPlan {
        RotationPlan {
            generation,
            holders: holders
                .iter()
                .map(|(name, secret)| KeyHolder {
                    username: (*name).to_owned(),
                    public_key: secret.public_key(),
                })
                .collect(),
            recovery_public_key: None,
            needed_for: vec!["mallory".into()],
            running: None,
        }
    }

    fn progress(to_generation: u32) -> RotationProgress {
        RotationProgress {
            from_generation: to_generation - 1,
            to_generation,
            done: 0,
            total: 1,
            started_by: None,
            started_at: 0,
            finished: false,
        }
    }

    #[test]
    fn the_new_key_reaches_every_holder_and_the_recovery_key_with_the_old_one_as_previous() {
        let admin = MemberSecretKey::generate().unwrap();
        let bob = MemberSecretKey::generate().unwrap();
        let recovery = MemberSecretKey::generate().unwrap();
        let old = unlocked_at(3, &admin);
        let mut plan = plan(3, &[("admin", &admin), ("bob", &bob)]);
        plan.recovery_public_key = Some(recovery.public_key());
        let (request, next) = start_rotation(&old, &plan).unwrap();

        assert_eq!(request.from_generation, 3);
        assert_eq!(next.generation, 4);
        assert_ne!(next.library_key.as_bytes(), old.library_key.as_bytes());
        let sealed_to_recovery = request.recovery_sealed_library_key.as_ref().unwrap();
        let opened = open_library_key(&recovery, sealed_to_recovery, 4).unwrap();
        assert_eq!(opened.as_bytes(), next.library_key.as_bytes());

        // Bob opens his new grant the way he unlocks: grant of generation 4, previous key too.
        let bob_grant = &request.grants[1];
        assert_eq!(bob_grant.username, "bob");
        let status = LibraryStatus {
            mode: LibraryMode::Members,
            generation: 4,
            me: None,
            my_grant: Some(bob_grant.sealed_library_key.clone()),
            previous: Some(PreviousKey {
                generation: 3,
                wrapped: request.previous.clone(),
            }),
            shared: None,
            recovery_set: true,
            rotation: Some(progress(4)),
            rotation_needed: vec![],
            waiting: vec![],
            holders: vec![],
        };
        let bob_unlocked = open_library(&bob, &status).unwrap();
        assert_eq!(
            bob_unlocked.library_key.as_bytes(),
            next.library_key.as_bytes()
        );
        assert_eq!(
            bob_unlocked.previous.unwrap().as_bytes(),
            old.library_key.as_bytes()
        );
        // A grant of the new generation does not pass for the old one.
        assert!(open_library_key(&bob, &bob_grant.sealed_library_key, 3).is_err());
    }

    #[test]
    fn a_stale_unlock_or_a_running_change_is_refused() {
        let admin = MemberSecretKey::generate().unwrap();
        let old = unlocked_at(2, &admin);
        assert_eq!(
            start_rotation(&old, &plan(3, &[("admin", &admin)])).unwrap_err(),
            RotationError::OtherGeneration
        );
        let mut running = plan(2, &[("admin", &admin)]);
        running.running = Some(progress(3));
        assert_eq!(
            start_rotation(&old, &running).unwrap_err(),
            RotationError::OtherGeneration
        );
    }

    #[test]
    fn a_batch_is_rewrapped_under_the_new_key_and_no_longer_opens_with_the_old() {
        let admin = MemberSecretKey::generate().unwrap();
        let old = unlocked_at(1, &admin);
        let (_, next) = start_rotation(&old, &plan(1, &[("admin", &admin)])).unwrap();
        let videos: Vec<(VideoId, Dek)> = (0..3)
            .map(|_| (VideoId::random().unwrap(), Dek::generate().unwrap()))
            .collect();
        let batch = RotationBatch {
            to_generation: 2,
            items: videos
                .iter()
                .map(|(id, dek)| RotationBatchItem {
                    video_id: *id,
                    wrapped_dek: wrap_dek(&old.library_key, id, dek).unwrap(),
                })
                .collect(),
            progress: progress(2),
        };
        let request = rewrap_batch(&next, &batch).unwrap();
        assert_eq!(request.to_generation, 2);
        for ((id, dek), item) in videos.iter().zip(&request.items) {
            assert_eq!(item.video_id, *id);
            let opened = unwrap_dek(&next.library_key, id, &item.wrapped_dek).unwrap();
            assert_eq!(opened.as_bytes(), dek.as_bytes());
            assert!(unwrap_dek(&old.library_key, id, &item.wrapped_dek).is_err());
        }

        // Wrong generation, no previous key, or a key the previous one does not open.
        let mut other = batch.clone();
        other.to_generation = 3;
        assert_eq!(
            rewrap_batch(&next, &other).unwrap_err(),
            RotationError::OtherGeneration
        );
        assert_eq!(
            rewrap_batch(&old, &batch).unwrap_err(),
            RotationError::OtherGeneration
        );
        let mut damaged = batch.clone();
        let stranger = LibraryKey::generate().unwrap();
        let (id, dek) = &videos[0];
        damaged.items[0].wrapped_dek = wrap_dek(&stranger, id, dek).unwrap();
        assert_eq!(
            rewrap_batch(&next, &damaged).unwrap_err(),
            RotationError::Undecryptable(*id)
        );
    }
}
