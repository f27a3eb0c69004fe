//! The configs of real Stable Diffusion releases parse into the sizes the networks are built
//! from (the weights are too large for tests; their configs are not).

use std::path::Path;

use nao_sd::config::{
    ClipActivation, ClipConfig, DownBlockKind, UnetConfig, UpBlockKind, VaeConfig,
};

/// `unet/config.json` of Stable Diffusion 2.1 (768, v-prediction), as diffusers ships it.
const SD21_UNET: &str = r#"{
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.0.dev0",
  "act_fn": "silu", "attention_head_dim": [5, 10, 20, 20],
  "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
  "cross_attention_dim": 1024,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0,
  "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05,
  "norm_num_groups": 32, "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4,
  "sample_size": 96,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "upcast_attention": true, "use_linear_projection": true
}"#;

/// `unet/config.json` of Stable Diffusion 1.5.
const SD15_UNET: &str = r#"{
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu",
  "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
  "center_input_sample": false, "cross_attention_dim": 768,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4,
  "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32,
  "out_channels": 4, "sample_size": 64,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
}"#;

/// `text_encoder/config.json` of Stable Diffusion 2.1 (OpenCLIP ViT-H, 23 layers as converted).
const SD21_TEXT: &str = r#"{
  "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0,
  "dropout": 0.0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 1024,
  "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 4096,
  "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
  "num_attention_heads": 16, "num_hidden_layers": 23, "pad_token_id": 1,
  "projection_dim": 512, "torch_dtype": "float32", "vocab_size": 49408
}"#;

/// `vae/config.json` of Stable Diffusion 1.5 / 2.x.
const SD_VAE: &str = r#"{
  "_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
  "out_channels": 3, "sample_size": 768,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
}"#;

#[test]
fn sd21_unet_heads_come_from_attention_head_dim_per_block() {
    let c = UnetConfig::from_json(SD21_UNET, Path::new("sd21/unet/config.json")).unwrap();
    assert_eq!(c.attention_heads, [5, 10, 20, 20]);
    assert_eq!(c.cross_attention_dim, [1024; 4]);
    assert!(c.use_linear_projection && c.upcast_attention);
    assert_eq!(c.layers_per_block, [2; 4]);
    assert_eq!(c.transformer_layers_per_block, [1; 4]);
    assert_eq!(c.sample_size, (96, 96));
    assert_eq!(c.time_embed_dim, 1280);
    assert_eq!(c.downsample(), 8);
    assert_eq!(c.down_blocks[3], DownBlockKind::Plain);
    assert_eq!(c.up_blocks[0], UpBlockKind::Plain);
    assert!(!c.time_scale_shift);
}

#[test]
fn sd15_unet_has_8_heads_everywhere() {
    let c = UnetConfig::from_json(SD15_UNET, Path::new("sd15/unet/config.json")).unwrap();
    assert_eq!(c.attention_heads, [8; 4]);
    assert_eq!(c.cross_attention_dim, [768; 4]);
    assert!(!c.use_linear_projection && !c.upcast_attention);
    assert_eq!((c.norm_num_groups, c.norm_eps), (32, 1e-5));
}

#[test]
fn sd21_text_encoder_is_openclip_gelu() {
    let c = ClipConfig::from_json(SD21_TEXT, Path::new("sd21/text_encoder/config.json")).unwrap();
    assert_eq!(c.hidden_act, ClipActivation::Gelu);
    assert_eq!(
        (c.hidden_size, c.num_hidden_layers, c.num_attention_heads),
        (1024, 23, 16)
    );
    assert_eq!(c.intermediate_size, 4096);
}

#[test]
fn sd_vae_downsamples_8_times() {
    let c = VaeConfig::from_json(SD_VAE, Path::new("sd/vae/config.json")).unwrap();
    assert_eq!(c.downsample(), 8);
    assert_eq!((c.latent_channels, c.layers_per_block), (4, 2));
    assert_eq!(c.scaling_factor, 0.18215);
    assert!(c.use_quant_conv && c.use_post_quant_conv && c.mid_block_add_attention);
}

#[test]
fn sdxl_is_refused_with_the_field_and_value() {
    let sdxl = SD21_UNET
        .replace(
            "\"act_fn\"",
            "\"addition_embed_type\": \"text_time\", \"act_fn\"",
        )
        .replace(
            "\"cross_attention_dim\": 1024",
            "\"cross_attention_dim\": 2048",
        );
    let e = UnetConfig::from_json(&sdxl, Path::new("sdxl/unet/config.json"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sdxl/unet/config.json") && e.contains("'addition_embed_type' = \"text_time\""),
        "{e}"
    );
    let e = UnetConfig::from_json("[1]", Path::new("u.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("u.json") && e.contains("JSON object"), "{e}");
    let e = UnetConfig::from_json("{", Path::new("u.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid JSON"), "{e}");
}

#[test]
fn int_or_list_fields_and_sample_sizes() {
    let c = UnetConfig::from_json(
        r#"{"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": [1, 3],
            "transformer_layers_per_block": [2, 1], "cross_attention_dim": [16, 16],
            "attention_head_dim": 4, "norm_num_groups": 8, "sample_size": [12, 20],
            "time_embedding_dim": 100, "resnet_time_scale_shift": "scale_shift"}"#,
        Path::new("u.json"),
    )
    .unwrap();
    assert_eq!(c.layers_per_block, [1, 3]);
    assert_eq!(c.transformer_layers_per_block, [2, 1]);
    assert_eq!(c.attention_heads, [4, 4]);
    assert_eq!(c.sample_size, (12, 20));
    assert_eq!(c.time_embed_dim, 100);
    assert!(c.time_scale_shift);
    for (text, needle) in [
        (r#"{"sample_size": [1, 2, 3]}"#, "sample_size"),
        (r#"{"layers_per_block": "2"}"#, "layers_per_block"),
        (r#"{"norm_num_groups": null}"#, "norm_num_groups"),
        (r#"{"freq_shift": 160}"#, "freq_shift"),
        (r#"{"downsample_padding": 2}"#, "downsample_padding"),
        (r#"{"norm_eps": 0}"#, "norm_eps"),
        (r#"{"block_out_channels": []}"#, "block_out_channels"),
        (
            r#"{"up_block_types": ["UpBlock2D", "UpBlock2D", "UpBlock2D"]}"#,
            "must agree",
        ),
    ] {
        let e = UnetConfig::from_json(text, Path::new("u.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && e.contains("u.json"), "{text}: {e}");
    }
}
